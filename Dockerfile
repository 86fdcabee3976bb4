# syntax=docker/dockerfile:1
# Bazaar's image: built in one stage, run from a slim one as an unprivileged user. The same image runs the API
# (`serve`, the default), the workers (`worker`) and one-off commands (`migrate`, `seed`).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# npm ci runs the prepare script, which compiles src/ into dist/.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
RUN groupadd --system --gid 10001 bazaar \
  && useradd --system --uid 10001 --gid bazaar --home-dir /app --shell /usr/sbin/nologin bazaar \
  && mkdir -p /var/lib/bazaar \
  && chown bazaar:bazaar /var/lib/bazaar
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY migrations ./migrations
ENV HOST=0.0.0.0 PORT=3000 DATA_DIR=/var/lib/bazaar
USER bazaar
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM reaches Node directly (no shell in between), so a stop drains in-flight requests.
ENTRYPOINT ["node", "bin/bazaar"]
CMD ["serve"]
