# One image for every part of the service; the command picks the part:
#   node dist/api/server.js          the API (default command), port 3000
#   node dist/worker/main.js         a worker (run as many as needed), metrics on 9464
#   node dist/data-platform/main.js  the mock data platform, port 4100
#   node dist/scripts/db-setup.js    migrations and demo data, then exits
# Settings come from the environment (config/index.ts; README "Configuration").

ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: all dependencies, tsc to dist/ and the prebuilt workflow bundle ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# --- runtime: production dependencies and dist/ only, as the unprivileged `node` user ---
FROM ${NODE_IMAGE} AS runtime
# Listen on every interface of the container, not only on its loopback (the local defaults).
ENV NODE_ENV=production \
    API_HOST=0.0.0.0 \
    DATA_PLATFORM_HOST=0.0.0.0 \
    WORKER_METRICS_ADDRESS=0.0.0.0:9464
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# dist/ holds the compiled code, the migrations (db/migrations/*.js, listed in their index)
# and dist/workflow-bundle.js, which the worker loads instead of bundling at start-up.
COPY --from=build /app/dist ./dist
# The mock data platform keeps what it received in /app/.data-platform (DATA_PLATFORM_STORE_PATH).
RUN mkdir -p /app/.data-platform && chown node:node /app/.data-platform
USER node
EXPOSE 3000 4100 9464
# Checks whichever part runs here (api, data platform or worker); a db-setup container is healthy.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "dist/scripts/healthcheck.js"]
CMD ["node", "dist/api/server.js"]
