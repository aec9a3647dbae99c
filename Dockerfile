# One image per service: docker build --build-arg APP=profiles -t segmenta/profiles .
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /repo
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json nx.json ./
COPY apps ./apps
COPY libs ./libs
COPY tools ./tools
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ARG APP
ARG PORT=3000
RUN test -n "$APP" || (echo "build with --build-arg APP=<ingestion|profiles|segmentation|offers|experiments>" && exit 1)
ENV NODE_ENV=production APP=${APP} PORT=${PORT}
WORKDIR /srv
COPY --from=build --chown=node:node /repo/package.json ./package.json
COPY --from=build --chown=node:node /repo/node_modules ./node_modules
COPY --from=build --chown=node:node /repo/dist ./dist
COPY --from=build --chown=node:node /repo/tools/scripts ./tools/scripts
COPY --from=build --chown=node:node /repo/nx.json ./nx.json
USER node
EXPOSE ${PORT}
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["sh", "-c", "exec node -r ./tools/scripts/register-paths.js dist/apps/${APP}/src/main.js"]
