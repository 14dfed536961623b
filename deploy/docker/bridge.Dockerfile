# syntax=docker/dockerfile:1
# The MQTT bridge image. Build from the repository root:
#   docker build -f deploy/docker/bridge.Dockerfile -t chat-cluster/mqtt-bridge .
# Same base as the gateway so both share the build stage's layers.

# ---- build: every workspace compiled with its dev dependencies --------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Manifests first, so `npm ci` stays cached until a dependency changes.
COPY package.json package-lock.json .npmrc ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/runtime/package.json packages/runtime/
COPY packages/cluster/package.json packages/cluster/
COPY packages/client/package.json packages/client/
COPY packages/testkit/package.json packages/testkit/
COPY services/gateway/package.json services/gateway/
COPY services/mqtt-bridge/package.json services/mqtt-bridge/
RUN npm ci
COPY tsconfig.json tsconfig.base.json ./
COPY packages packages
COPY services services
RUN npx tsc -b

# ---- runtime: production dependencies and compiled output only --------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/runtime/package.json packages/runtime/
COPY packages/cluster/package.json packages/cluster/
COPY packages/client/package.json packages/client/
COPY packages/testkit/package.json packages/testkit/
COPY services/gateway/package.json services/gateway/
COPY services/mqtt-bridge/package.json services/mqtt-bridge/
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/packages/protocol/dist packages/protocol/dist
COPY --from=build /app/packages/runtime/dist packages/runtime/dist
COPY --from=build /app/packages/cluster/dist packages/cluster/dist
COPY --from=build /app/services/mqtt-bridge/dist services/mqtt-bridge/dist
# Files stay owned by root: the service can read its code but not change it.
USER node
EXPOSE 9464
# The bridge closes its MQTT session and Redis connections on SIGTERM, then exits.
STOPSIGNAL SIGTERM
CMD ["node", "services/mqtt-bridge/dist/main.js"]
