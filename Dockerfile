# Plinth in a container (docs/deployment.md). Not built in this project's CI: its machines reach
# only the npm registry and Debian's packages, not a container registry for the base image.
FROM node:20-bookworm-slim
# the optional engines: audio (ffmpeg, flite, pocketsphinx), the code interpreter's sandbox
# (bubblewrap, Python with numpy, pandas, matplotlib); drop what you do not serve
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg flite pocketsphinx pocketsphinx-en-us \
    bubblewrap python3-numpy python3-pandas python3-matplotlib postgresql-client \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/plinth
COPY package.json package-lock.json ./
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
# `prepare` builds dist/ during the install; dev dependencies are needed for that step only
RUN npm ci --no-audit --no-fund && npm prune --omit=dev
ENV PLINTH_DATA_DIR=/data PLINTH_HOST=0.0.0.0 PLINTH_PORT=8080 PLINTH_LOG_FORMAT=json
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--max-old-space-size=1024", "bin/plinth.js", "serve"]
