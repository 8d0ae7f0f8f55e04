# holoserve on Node 20: the uWebSockets.js build it uses ships native binaries for Node 16/18/20
# only (the server refuses the slow JS fallback), so the Node major is pinned here and in
# package.json "engines".
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=7878 \
    HOLOSERVE_DATA_DIR=/data \
    HOLOSERVE_ROLE_FILE=/data/roles.bin
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
VOLUME /data
EXPOSE 7878
# Off loopback the server requires bearer tokens: mount a config file with "tokens" (salted
# SHA-256 hashes, docs/OPERATIONS.md) and set HOLOSERVE_CONFIG to its path.
USER node
CMD ["node", "dist/src/main.js"]
