# répondeur: production image (Node 20, Debian). Build: docker build -t repondeur .
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
COPY prompts ./prompts
COPY src/api/web ./src/api/web
VOLUME ["/app/var"]
EXPOSE 5060/udp 5060/tcp 8080/tcp
# --max-semi-space-size=4: a small V8 young generation on the SIP thread (README configuration table, BENCHMARKS.md).
CMD ["node", "--enable-source-maps", "--max-semi-space-size=4", "bin/repondeur.js", "serve"]
