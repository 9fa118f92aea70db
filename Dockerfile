# syntax=docker/dockerfile:1
# kube-node-logs-mcp in HTTP mode for in-cluster use (see deploy/). Build: docker build -t kube-node-logs-mcp:0.1.0 .

# ---- build: full dependency tree, compile, then drop the dev dependencies
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build \
 && find dist -name '*.map' -delete \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: slim Node 26 (the LTS CI runs every test on), production files only, owned by root and run as an unprivileged user
FROM node:26-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Numeric (the image's "node" user), so that Kubernetes can check runAsNonRoot against it.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "dist/index.js"]
CMD ["--transport", "http", "--host", "0.0.0.0", "--port", "8080"]
