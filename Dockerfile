# somebot: multi-stage build. The builder compiles a locked release binary, its dependencies in a
# layer of their own; the runtime image is distroless (glibc, CA certificates, no shell) and runs
# as the non-root user.
#
# Both bases are pinned by the digest of their multi-arch index; the tag stands in the comment
# above each. Without a container engine, `.ci/image-context` replays the build stage on exactly
# the files it copies: keep the build stage's paths relative to its WORKDIR.

# rust:1.95.0-slim-trixie (the toolchain CI builds and tests with)
FROM rust:1.95.0-slim-trixie@sha256:e14e87345b4d5964ddcc3491d27ee046a0f23820f340c3c1e24da6880141f7c0 AS build
WORKDIR /src
# 1. The dependencies, built against empty targets: this layer changes only with Cargo.toml or
#    Cargo.lock, so a source change rebuilds only the crate.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && echo 'fn main() {}' > benches/load.rs \
    && touch src/lib.rs \
    && cargo build --release --locked --bin somebot \
    && rm -rf src benches
# 2. The crate. COPY keeps the files' modification times, which can be older than the stubs':
#    touch the crate roots so that cargo rebuilds the crate instead of keeping the stub binary.
#    benches/ is there because the manifest declares the load benchmark; it is not built here.
COPY src ./src
COPY prompts ./prompts
COPY migrations ./migrations
COPY benches ./benches
#    The image's defaults go in a file, not in ENV: `--env-file` or `-e NAME=` would replace an
#    ENV value with an empty one, while the binary reads this file last, for what nothing sets.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin somebot \
    && mkdir -p out/data \
    && cp "${CARGO_TARGET_DIR:-target}/release/somebot" out/somebot \
    && printf 'SOMEBOT_DATA_DIR=/data\nSOMEBOT_METRICS_ADDR=0.0.0.0:9100\n' > out/defaults.env

# gcr.io/distroless/cc-debian13:nonroot
FROM gcr.io/distroless/cc-debian13:nonroot@sha256:d97bc0a941b8d4be647dc0ee75b264ddbb772f1ac5ba690a4309c00723b23775
COPY --from=build /src/out/somebot /usr/local/bin/somebot
# SOMEBOT_DATA_DIR=/data and SOMEBOT_METRICS_ADDR=0.0.0.0:9100, where nothing else sets them.
COPY --from=build /src/out/defaults.env /etc/somebot/defaults.env
# The SQLite file and the report key file live in the volume, owned by the runtime user.
COPY --from=build --chown=65532:65532 /src/out/data /data
VOLUME ["/data"]
# /healthz and Prometheus /metrics.
EXPOSE 9100
USER 65532:65532
# `somebot healthcheck` exits 0 when the running bot's /healthz answers 200 (database reachable).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/usr/local/bin/somebot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/somebot"]
CMD ["run"]
