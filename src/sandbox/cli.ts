#!/usr/bin/env node
import { startSandbox } from './index.js';
import type { SandboxOptions } from './types.js';
import { HEALTHY_NODE } from './nodes.js';

const USAGE = 'usage: node dist/sandbox/cli.js [--fleet N] [--dir D] [--deadline-ms MS] [--journal auto|journalctl|inprocess]';

function parseArgs(argv: string[]): SandboxOptions {
  // An interactive session wants every node's first query to be quick.
  const opts: SandboxOptions = { warmJournals: true };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const int = (v: string) => {
      if (!/^\d+$/.test(v)) throw new Error(`${flag} expects a non-negative integer, got ${JSON.stringify(v)}`);
      return Number(v);
    };
    switch (flag) {
      case '--fleet':
        opts.fleet = int(value());
        break;
      case '--dir':
        opts.dir = value();
        break;
      case '--deadline-ms':
        opts.deadlineMs = int(value());
        break;
      case '--journal': {
        const v = value();
        if (v !== 'auto' && v !== 'journalctl' && v !== 'inprocess') throw new Error(`--journal must be auto, journalctl or inprocess`);
        opts.journalBackend = v;
        break;
      }
      case '-h':
      case '--help':
        console.log(USAGE);
        process.exit(0);
      default:
        throw new Error(`unknown argument ${JSON.stringify(argv[i])}`);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  let opts: SandboxOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const sb = await startSandbox(opts);
  const shown = sb.nodes.filter((n) => !n.name.startsWith('fleet-'));
  const fleet = sb.nodes.length - shown.length;
  console.log(`apiserver:  ${sb.apiserverUrl}`);
  console.log(`kubeconfig: ${sb.kubeconfigPath}  (contexts: sandbox-admin [current], sandbox-restricted)`);
  console.log(`dir:        ${sb.dir}`);
  console.log('nodes:');
  for (const n of shown) console.log(`  ${n.name.padEnd(16)} ${n.profile}`);
  if (fleet) console.log(`  fleet-0000 .. fleet-${String(fleet - 1).padStart(4, '0')} (${fleet} healthy workers)`);
  console.log('\ntry:');
  console.log(`  kubectl --kubeconfig ${sb.kubeconfigPath} get nodes`);
  console.log(`  kubectl --kubeconfig ${sb.kubeconfigPath} get --raw '/api/v1/nodes/${HEALTHY_NODE}/proxy/logs/?query=kubelet&tailLines=5'`);
  console.log('\nCtrl-C to stop.');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the sandbox`);
    sb.close().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
