# TechChallengeApp container image.
#
#   docker build -t techchallengeapp .            (or: make image)
#   docker run --rm -p 127.0.0.1:3000:3000 --read-only --cap-drop=ALL \
#     --security-opt no-new-privileges -e VTT_DBTYPE=sqlite -e VTT_DBPATH=/tmp/tasks.db \
#     --tmpfs /tmp techchallengeapp serve
#
# Two stages on Debian 12: the first compiles with the -dev packages listed in
# deps/apt-build.txt, the second holds only the binary and its runtime libraries. The app
# runs as an unprivileged user, needs no writable root filesystem (only the SQLite file's
# directory when the embedded store is used), handles SIGTERM itself as PID 1 (stops accepting,
# drains, exits 0) and checks its own liveness with `TechChallengeApp healthcheck --live` (the
# process serves HTTP; the database is the load balancer's readiness check, /healthcheck/), so
# the image carries no shell tools for that. Releases are built by scripts/image-build.sh
# (platform, labels, RDS CA bundle). See docs/container.md.

ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS build
COPY deps/apt-build.txt /tmp/apt-build.txt
RUN apt-get update \
 && sed 's/#.*//' /tmp/apt-build.txt | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The revision baked into `--version`: there is no .git in the build context.
ARG GIT_REV=unknown
RUN make -j"$(nproc)" BUILD=/build GIT_REV="$GIT_REV" all \
 && strip /build/TechChallengeApp \
 && /build/TechChallengeApp --version
# The AWS RDS CA bundle, for DbSslMode verify-full. The build fetches nothing itself:
# scripts/image-build.sh (make deploy-image-push, CI) downloads and checks it into
# deploy/certs/rds-global-bundle.pem and builds with REQUIRE_RDS_CA=1, which fails here when
# the file is missing or holds no certificate.
ARG REQUIRE_RDS_CA=0
RUN mkdir -p /out/certs \
 && if [ -f deploy/certs/rds-global-bundle.pem ]; then \
      grep -q 'BEGIN CERTIFICATE' deploy/certs/rds-global-bundle.pem \
      && cp deploy/certs/rds-global-bundle.pem /out/certs/; \
    elif [ "$REQUIRE_RDS_CA" = 1 ]; then \
      echo "deploy/certs/rds-global-bundle.pem is missing (REQUIRE_RDS_CA=1)" >&2; exit 1; \
    fi

FROM ${DEBIAN_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmicrohttpd12 libjansson4 libsqlite3-0 libpq5 \
      libgnutls30 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log \
 && groupadd --gid 10001 app \
 && useradd --uid 10001 --gid app --no-log-init --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin app
COPY --from=build /out/certs/ /etc/ssl/certs/
COPY --from=build /build/TechChallengeApp /usr/local/bin/TechChallengeApp

# conf.toml is read from the working directory if present (mount one at /app/conf.toml);
# every key can also be set as VTT_<KEY>.
WORKDIR /app
ENV VTT_LISTENHOST=0.0.0.0 \
    VTT_LISTENPORT=3000 \
    VTT_LOGFORMAT=json
USER 10001:10001
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/TechChallengeApp", "healthcheck", "--live"]
ENTRYPOINT ["/usr/local/bin/TechChallengeApp"]
CMD ["serve"]
