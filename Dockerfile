# somebot: multi-stage build. The builder compiles a locked release binary; the runtime image is
# distroless (glibc, CA certificates, no shell) and runs as the non-root user.
FROM rust:1.95.0-slim-trixie AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY src ./src
COPY prompts ./prompts
COPY migrations ./migrations
RUN cargo build --release --locked --bin somebot \
    && mkdir -p /out/data \
    && cp target/release/somebot /out/somebot

FROM gcr.io/distroless/cc-debian13:nonroot
COPY --from=build /out/somebot /usr/local/bin/somebot
# The SQLite file (and later the report key file) live in the volume, owned by the runtime user.
COPY --from=build --chown=65532:65532 /out/data /data
ENV SOMEBOT_DATA_DIR=/data \
    SOMEBOT_METRICS_ADDR=0.0.0.0:9100 \
    RUST_LOG=info,serenity=warn,sqlx=warn
VOLUME ["/data"]
# /healthz and Prometheus /metrics.
EXPOSE 9100
USER 65532:65532
# `somebot healthcheck` exits 0 when the running bot's /healthz answers 200 (database reachable).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/usr/local/bin/somebot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/somebot"]
CMD ["run"]
