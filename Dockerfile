# One image for both apps; docker-compose.yml picks the command (ingest or worker).
FROM node:20-slim

WORKDIR /app
ENV NODE_ENV=production TURBO_TELEMETRY_DISABLED=1

# Every workspace's package.json must be present for `npm ci`, so the sources come in
# together; .dockerignore keeps node_modules, dist and local data out.
COPY package.json package-lock.json turbo.json tsconfig.json ./
COPY packages ./packages
COPY apps ./apps
# Dev dependencies (typescript, turbo) are needed to build, so install them despite NODE_ENV.
RUN npm ci --include=dev --no-audit --no-fund \
 && npm run build \
 && npm cache clean --force

USER node
EXPOSE 8080 9091
CMD ["node", "apps/ingest/dist/main.js"]
