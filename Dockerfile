# nginx + ngx-dash-auth, on Debian 12's own nginx package.
#
# Stage 1 builds the module against Debian's nginx with the script CI runs
# natively (scripts/build-debian-module.sh); stage 2 is a slim runtime with
# the distribution nginx (not the vendored development binary). The secret
# and the self-signed certificate are created at first start, in a volume.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY core ./core
COPY scripts ./scripts
RUN scripts/build-debian-module.sh

FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        nginx openssl curl python3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && rm -f /etc/nginx/sites-enabled/default
COPY --from=build /src/target/debian/release/libngx_http_dash_auth_module.so \
    /usr/lib/nginx/modules/ngx_http_dash_auth_module.so
WORKDIR /opt/ngx-dash-auth
COPY scripts ./scripts
COPY nginx-conf ./nginx-conf
ENV NGINX_BIN=/usr/sbin/nginx \
    MODULE_PATH=/usr/lib/nginx/modules/ngx_http_dash_auth_module.so \
    RUN_DIR=/var/lib/dash-auth/nginx \
    STATE_DIR=/var/lib/dash-auth/secrets \
    HTTP_PORT=80 HTTPS_PORT=443 \
    DASH_UPSTREAM=dashboard:8050 \
    USERS_FILE=/etc/dash-auth/users
VOLUME /var/lib/dash-auth
EXPOSE 80 443
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
    CMD curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1/ | grep -q 401
CMD ["scripts/start-nginx.sh"]
