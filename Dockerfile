# Minimal image: builds the module and the vendored nginx with the same script
# CI runs, then starts the demo stack. A later issue splits this into a
# multi-stage build on a distribution nginx plus a separate dashboard image.
FROM rust:1.95-bookworm
WORKDIR /src
COPY . .
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv && rm -rf /var/lib/apt/lists/* \
    && scripts/setup.sh
ENV HTTP_PORT=80 HTTPS_PORT=443 RUN_DIR=/var/lib/dash-auth
VOLUME /var/lib/dash-auth
EXPOSE 80 443
CMD ["scripts/run-demo.sh"]
