# nginx + ngx-dash-auth, on Debian 12's own nginx package.
#
# Stage 1 builds the module against Debian's nginx with the script CI runs
# natively (scripts/build-debian-module.sh); stage 2 is a slim runtime with
# the distribution nginx (not the vendored development binary). The secret
# and the self-signed certificate are created at first start, in a volume.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# The build packages and the configured nginx tree first: a layer that
# changes of the sources leave cached.
COPY scripts/build-debian-module.sh ./scripts/
RUN scripts/build-debian-module.sh --prepare
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY core ./core
RUN scripts/build-debian-module.sh

# The runtime: Debian's nginx and what the start scripts run (openssl for the
# secret and certificate, curl for the app's callbacks and the health check,
# python3-minimal to render the config). No compiler, no key, no secret.
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        nginx openssl curl python3-minimal \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default
COPY --from=build /src/target/debian/release/libngx_http_dash_auth_module.so \
    /usr/lib/nginx/modules/ngx_http_dash_auth_module.so
WORKDIR /opt/ngx-dash-auth
COPY scripts/start-nginx.sh scripts/gen-secrets.sh scripts/export-dependencies.sh scripts/render-conf.py \
    ./scripts/
COPY nginx-conf/nginx.conf.template ./nginx-conf/
# nginx logs to the container's output (`docker-compose logs nginx`). Its
# master runs as root to bind 80 and 443 and read the secret and key; the
# workers run as nobody (the build's default user), which can read neither.
ENV NGINX_BIN=/usr/sbin/nginx \
    MODULE_PATH=/usr/lib/nginx/modules/ngx_http_dash_auth_module.so \
    RUN_DIR=/var/lib/dash-auth/nginx \
    STATE_DIR=/var/lib/dash-auth/secrets \
    HTTP_PORT=80 HTTPS_PORT=443 \
    DASH_UPSTREAM=dashboard:8050 \
    USERS_FILE=/etc/dash-auth/users \
    ERROR_LOG=stderr ACCESS_LOG=/dev/stdout
VOLUME /var/lib/dash-auth
EXPOSE 80 443
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1/ | grep -q 401
CMD ["scripts/start-nginx.sh"]
