# cloud-provider-localstack: Node 24 runs the TypeScript sources directly (type stripping), so there is no
# build step; the image is the production dependencies plus src/.
#   docker build -t cloud-provider-localstack:dev .

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency has install scripts; --ignore-scripts keeps it that way.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY src ./src
# Read by the `seed` command.
COPY localstack/seed.yaml ./localstack/seed.yaml
# Root owns the files (read-only to the process); the process runs as a non-root uid (distroless's nonroot).
USER 65532:65532
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["run"]
