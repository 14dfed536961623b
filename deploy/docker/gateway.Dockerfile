# syntax=docker/dockerfile:1
# The gateway image. Build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t chat-cluster/gateway .
# node:20-bookworm-slim because uWebSockets.js ships glibc binaries: the image runs the same native
# binding as the tests do.

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
# The gateway serves the browser SDK and the protocol module to the chat page.
COPY --from=build /app/packages/client/dist packages/client/dist
COPY --from=build /app/services/gateway/dist services/gateway/dist
COPY services/gateway/public services/gateway/public
# Files stay owned by root: the service can read its code but not change it.
USER node
EXPOSE 8080
# The gateway drains on SIGTERM: not-ready, 1001 closes over DRAIN_SECONDS, exit 0.
STOPSIGNAL SIGTERM
# A young generation of at most 4 MB per semi-space (V8's default lets it grow to 16 MB): see the
# README, "Memory". The same flags as npm start, the tests and the benchmark.
CMD ["node", "--max-semi-space-size=4", "services/gateway/dist/main.js"]
