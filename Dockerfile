# holoserve container. Build:  docker build -t holoserve .   (or: buildah bud --format docker -t holoserve .;
# the OCI format has no HEALTHCHECK)
#
# Base pinned by exact tag (a digest would pin harder: add @sha256:… from `docker pull`).
# Node 20 on Debian 12 serves with the uWebSockets.js 20.30 copy; for Node 22 or 24 use a
# Debian 13 (glibc ≥ 2.38) image, where the @btc-vision 20.57 copy loads (src/server/uws.ts):
#   docker build --build-arg NODE_IMAGE=node:22.23.3-trixie-slim -t holoserve:node22 .
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build: everything needed to compile, nothing of it shipped
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY workers ./workers
# A C compiler for the one native addon, src/native/huge-pages.c (transparent huge pages for the
# tenant slabs, docs/MEMORY.md "Huge pages"); the build stage only: the runtime gets the .node.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*
# npm ci runs `prepare` (AssemblyScript + tsc) once; then the dev dependencies go, and so do the
# uWS binaries for other platforms and Node ABIs (each copy ships ~20 of 6.6 MB; one is used).
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && binary="uws_linux_$(node -p 'process.arch + "_" + process.versions.modules').node" \
 && find node_modules/uWebSockets.js node_modules/@btc-vision/uwebsockets.js -name 'uws_*.node' ! -name "$binary" -delete \
 && rm -rf dist/.tsbuildinfo

# ---- runtime: the compiled server, production dependencies, a data directory the node user owns
FROM ${NODE_IMAGE}
WORKDIR /app
# Defaults: loopback, so the container starts as it is, open only to itself (and to the host
# with `--network host`). To serve other hosts set HOST=0.0.0.0 and bearer tokens
# (HOLOSERVE_TOKENS or a mounted HOLOSERVE_CONFIG file, docs/OPERATIONS.md): off loopback the
# server refuses to start without them. Logs are JSON lines on stdout (pretty with `-t`).
ENV NODE_ENV=production \
    HOST=127.0.0.1 \
    PORT=7878 \
    HOLOSERVE_DATA_DIR=/data \
    HOLOSERVE_ROLE_FILE=/data/roles.bin
# dist/ holds all the server reads at run time: src/ and workers/ compiled (the scan helper
# threads included), kernels.wasm, scan.wasm, finite.wasm and native/huge-pages.node.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
VOLUME /data
EXPOSE 7878
USER node
# Ready = prewarm done and not draining (GET /readyz); node's fetch, as the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||7878)+'/readyz').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/cli/main.js", "serve"]
