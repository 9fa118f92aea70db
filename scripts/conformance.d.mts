export declare const BASELINE_FILE: string;
export declare const APPLICABLE: Record<string, string>;
export declare const PASS_WITHOUT_FIXTURE: Record<string, string>;
export declare function suiteVersion(): string;
export declare function readBaseline(file?: string): Map<string, string>;
export declare function listServerScenarios(node?: string): string[];
export declare function classificationProblems(scenarios: string[], baseline?: Map<string, string>): string[];
export interface ScenarioResult {
  ok: boolean;
  passed: number;
  failed: number;
}
export interface ConformanceResult {
  code: number | null;
  suiteVersion: string;
  scenarios: Map<string, ScenarioResult>;
  summaryLines: string[];
  problems: string[];
  output: string;
}
export declare function runConformance(opts: { url: string; outputDir?: string; timeoutMs?: number; node?: string }): Promise<ConformanceResult>;
