#!/usr/bin/env bash
# podman-base.sh — make `FROM debian:bookworm-slim` resolve without Docker Hub.
#
#   scripts/podman-base.sh [CACHE_DIR]
#
# Builds a minimal Debian 12 root filesystem with debootstrap from the Debian mirror apt already
# uses on this machine, trims it the way the official -slim image is trimmed (no docs, man pages
# or locales; apt lists removed), and imports it into podman's local storage as
# docker.io/library/debian:bookworm-slim. Idempotent: a tarball cached in CACHE_DIR (default
# /var/tmp/tca-container) is reused, and nothing is done when podman already has the image.
# Set DEBIAN_MIRROR to override the mirror. Needs root (debootstrap), debootstrap and podman.
set -euo pipefail

image=docker.io/library/debian:bookworm-slim
cache=${1:-${CONTAINER_CACHE:-/var/tmp/tca-container}}

if podman image exists "$image"; then
  exit 0
fi

mkdir -p "$cache"
tarball=$cache/bookworm-slim.tar
if [ ! -s "$tarball" ]; then
  # shellcheck disable=SC2016 # apt's own $(FIELD) placeholders
  mirror=${DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' |
    awk '$2 == "bookworm" { print $1; exit }')}
  if [ -z "$mirror" ]; then
    echo "podman-base: no bookworm mirror in apt's sources; set DEBIAN_MIRROR" >&2
    exit 1
  fi
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  echo "podman-base: debootstrap bookworm from $mirror (about a minute)" >&2
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
    tail -20 "$cache/debootstrap.log" >&2
    exit 1
  }
  # What the official slim image does: keep docs, man pages and locales out of later installs.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  # The same sources apt uses on the host (bookworm, -updates, -security).
  rm -f "$rootfs/etc/apt/sources.list"
  cp /etc/apt/sources.list "$rootfs/etc/apt/sources.list" 2>/dev/null || true
  cp /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
    "$rootfs/etc/apt/sources.list.d/" 2>/dev/null || true
  [ -s "$rootfs/etc/apt/sources.list" ] || ls "$rootfs"/etc/apt/sources.list.d/* >/dev/null 2>&1 ||
    echo "deb $mirror bookworm main" >"$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
    "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* \
    "$rootfs"/var/cache/debconf/*-old
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  tar -C "$rootfs" --numeric-owner -cf "$rootfs.tar" .
  mv "$rootfs.tar" "$tarball"
fi
podman import --quiet --change 'CMD ["bash"]' "$tarball" "$image" >/dev/null
echo "podman-base: imported $image" >&2
