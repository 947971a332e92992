#!/usr/bin/env bash
# Makes sure the three base images the Dockerfiles name are in the local
# engine: debian:bookworm-slim, python:3.11-slim-bookworm, rust:1.95-bookworm.
#
# An image already present is left alone. A missing one is pulled; where no
# container registry answers (an offline CI machine), a local stand-in is
# built instead and tagged with the upstream name, so the Dockerfiles stay
# exactly what a user with Docker Hub runs:
#   debian:bookworm-slim       debootstrap'd Debian 12 (minbase), slimmed as
#                              the upstream image is (no docs, man, locales)
#   python:3.11-slim-bookworm  the same with Debian's Python 3.11 and pip
#   rust:1.95-bookworm         the same with a C toolchain and this machine's
#                              Rust 1.95 (rustc --print sysroot)
# Each stand-in carries this machine's extra CA certificates
# (/usr/local/share/ca-certificates) and its apt sources and Acquire settings,
# so builds reach the package registries the way the host does. Stand-ins are
# labelled org.ngx-dash-auth.stand-in=1: `docker image ls -f label=...` lists them.
#
# Environment: DOCKER (docker), PULL_TIMEOUT (60 s per image).
set -euo pipefail
cd "$(dirname "$0")/.."

DOCKER=${DOCKER:-docker}
LABEL=org.ngx-dash-auth.stand-in=1
DEBIAN=debian:bookworm-slim
PYTHON=python:3.11-slim-bookworm
RUST=rust:1.95-bookworm
RUST_VERSION=1.95

say() { echo "docker-base-images: $*" >&2; }
have() { $DOCKER image inspect "$1" >/dev/null 2>&1; }
pull() { timeout "${PULL_TIMEOUT:-60}" $DOCKER pull -q "$1" >/dev/null 2>&1; }

work=$(mktemp -d /tmp/docker-base-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The mirror the host's apt uses (deb822 or one-line sources), for debootstrap.
host_mirror() {
    local uri
    uri=$(grep -hs -E '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1 || true)
    [ -n "$uri" ] || uri=$(grep -hs -E '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n 1 || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

# What the stand-ins share with the host: apt sources, Acquire settings
# (proxies, snapshot validity), extra CA certificates. Never apt's auth.conf.d.
host_config() {
    local root=$1 f
    mkdir -p "$root/etc/apt/sources.list.d" "$root/etc/apt/apt.conf.d" "$root/usr/local/share/ca-certificates"
    rm -f "$root/etc/apt/sources.list"
    [ -s /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/sources.list"
    for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && cp "$f" "$root/etc/apt/sources.list.d/"
    done
    for f in /etc/apt/apt.conf.d/*; do
        [ -f "$f" ] && grep -qE '^[[:space:]]*Acquire::' "$f" && cp "$f" "$root/etc/apt/apt.conf.d/"
    done
    cp -r /usr/local/share/ca-certificates/. "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
}

build_debian() {
    local root="$work/rootfs" mirror
    mirror=$(host_mirror)
    command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    say "debootstrap bookworm from $mirror"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
        tail -n 20 "$work/debootstrap.log" >&2
        exit 1
    }
    host_config "$root"
    # The upstream slim image's trimming (debuerreotype's slimify) and apt settings.
    cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
    cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
    echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
    echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
    find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
    rm -rf "$root"/usr/share/{man,info,groff,lintian,linda}/* "$root"/var/lib/apt/lists/* \
        "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old "$root"/var/log/* "$root"/tmp/*
    find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
    : >"$root/etc/machine-id"
    tar -C "$root" -c . | $DOCKER import --change "LABEL $LABEL" --change 'CMD ["bash"]' - "$DEBIAN" >/dev/null
    rm -rf "$root"
}

build_python() {
    mkdir -p "$work/python"
    cat >"$work/python/Dockerfile" <<EOF
FROM $DEBIAN
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        python3 python3-pip python3-venv ca-certificates netbase tzdata \\
    && rm -rf /var/lib/apt/lists/* \\
    && ln -s python3 /usr/bin/python && ln -sf pip3 /usr/bin/pip \\
    && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \\
    && printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >/etc/pip.conf
LABEL $LABEL
CMD ["python3"]
EOF
    $DOCKER build -q -t "$PYTHON" "$work/python" >/dev/null
}

build_rust() {
    local sysroot version
    sysroot=$(rustc --print sysroot 2>/dev/null || true)
    version=$(rustc --version 2>/dev/null | awk '{print $2}')
    if [ -z "$sysroot" ] || [[ $version != "$RUST_VERSION".* ]]; then
        say "$RUST cannot be pulled, and this machine has no Rust $RUST_VERSION to build a stand-in from (rustc: ${version:-none})"
        exit 1
    fi
    mkdir -p "$work/rust/toolchain"
    # The toolchain without its 800 MB of HTML docs.
    tar -C "$sysroot" --exclude=./share/doc -c . | tar -C "$work/rust/toolchain" -x
    cat >"$work/rust/Dockerfile" <<EOF
FROM $DEBIAN
RUN apt-get update \\
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
        ca-certificates curl git gcc g++ libc6-dev make pkg-config xz-utils \\
    && rm -rf /var/lib/apt/lists/*
ENV RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:\$PATH RUST_VERSION=$version
COPY toolchain /usr/local/rustup/toolchains/$version-x86_64-unknown-linux-gnu
RUN mkdir -p /usr/local/cargo/bin \\
    && ln -s /usr/local/rustup/toolchains/$version-x86_64-unknown-linux-gnu/bin/* /usr/local/cargo/bin/ \\
    && printf '[http]\ncainfo = "/etc/ssl/certs/ca-certificates.crt"\n' >/usr/local/cargo/config.toml \\
    && cargo --version && rustc --version
LABEL $LABEL
EOF
    $DOCKER build -q -t "$RUST" "$work/rust" >/dev/null
    rm -rf "$work/rust"
}

for image in "$DEBIAN" "$PYTHON" "$RUST"; do
    if have "$image"; then
        continue
    fi
    if pull "$image"; then
        say "pulled $image"
        continue
    fi
    say "$image cannot be pulled: building a local stand-in"
    start=$SECONDS
    case $image in
        "$DEBIAN") build_debian ;;
        "$PYTHON") build_python ;;
        "$RUST") build_rust ;;
    esac
    say "built $image stand-in in $((SECONDS - start)) s"
done
