# Plinth in a container (docs/deployment.md). deploy/test-container.sh builds and runs this file
# with podman, and test/deploy/container.test.ts runs that script where podman works.

# The build stage compiles dist/ and the native modules. better-sqlite3 downloads a prebuilt
# binary from GitHub when it can and compiles itself otherwise (a registry mirror, an egress that
# allows only npm), which needs a compiler, Python and Node's headers (`nodedir`: the image's own,
# not a download from nodejs.org). None of that reaches the final image.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/plinth
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
# the empty stand-in that package.json's overrides put in place of node-llama-cpp's GPU builds
COPY vendor ./vendor
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
# `prepare` builds dist/ during the install; dev dependencies are needed for that step only
RUN npm_config_nodedir=/usr/local npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf /root/.npm

FROM node:20-bookworm-slim
# the optional engines: audio (ffmpeg, flite, pocketsphinx), the code interpreter's sandbox
# (bubblewrap, Python with numpy, pandas, matplotlib), pg_dump for backups; drop what you do not serve
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg flite pocketsphinx pocketsphinx-en-us \
    bubblewrap python3-numpy python3-pandas python3-matplotlib postgresql-client \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/plinth
COPY --from=build /opt/plinth ./
ENV PLINTH_DATA_DIR=/data PLINTH_HOST=0.0.0.0 PLINTH_PORT=8080 PLINTH_LOG_FORMAT=json
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PLINTH_PORT||8080)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--max-old-space-size=1024", "bin/plinth.js", "serve"]
