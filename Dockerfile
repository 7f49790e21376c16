# Trainyard API and worker image (one image, two commands; see docker-compose.yml).
FROM node:20-slim AS build
WORKDIR /app
# Dependencies first, so editing source does not reinstall them.
COPY package.json package-lock.json ./
# --ignore-scripts: nothing Trainyard needs comes from install scripts, and none may download.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# Generates the Prisma client offline, compiles TypeScript, then drops dev dependencies.
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# The whole tree: dist/, node_modules/, package.json and prisma/migrations (applied on start).
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 3000
CMD ["npm", "run", "start:api"]
