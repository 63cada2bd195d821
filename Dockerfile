# Tandem runs its TypeScript sources through tsx; one image serves every role (worker, scheduler,
# dashboard, sandbox), chosen by the command.
FROM node:22-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY workers ./workers
COPY mappings ./mappings
COPY config ./config
COPY tsconfig.json ./
USER node
ENTRYPOINT ["node", "bin/tandem.js"]
CMD ["--help"]
