# syntax=docker/dockerfile:1
# stackwatch: `stackwatch watch` in a container (see docs/operations.md, "Container image").
#
#   docker build -t stackwatch:dev .
#   docker run --rm -v "$PWD/config:/config:ro" -p 9464:9464 stackwatch:dev
#
# Build stage: a static release binary (glibc, crt-static), so the runtime stage needs no libc.
# Dependencies are compiled first against an empty crate, so that layer stays cached until
# Cargo.toml or Cargo.lock change.
FROM rust:1.95-slim-bookworm AS builder
ENV CARGO_TERM_COLOR=never \
    RUSTFLAGS="-C target-feature=+crt-static" \
    TARGET=x86_64-unknown-linux-gnu
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked --target "$TARGET" \
    && rm -rf src
COPY src ./src
# Touch the real sources so cargo rebuilds the crate itself, not the cached empty one.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --target "$TARGET" --bin stackwatch \
    && cp "target/$TARGET/release/stackwatch" /stackwatch \
    && mkdir -p /rootfs/state /rootfs/etc/ssl/certs \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
    && echo 'stackwatch:x:10001:10001::/nonexistent:/sbin/nologin' > /rootfs/etc/passwd \
    && echo 'stackwatch:x:10001:' > /rootfs/etc/group

# Runtime stage: nothing but the binary, CA certificates (for the AWS endpoints), a passwd entry
# for the fixed non-root UID, and an empty state directory it owns. No shell, no package manager.
FROM scratch
COPY --from=builder /rootfs/etc /etc
COPY --from=builder --chown=10001:10001 /rootfs/state /state
COPY --from=builder /stackwatch /usr/local/bin/stackwatch
# PATH for the exec-form ENTRYPOINT; the state directory (outputs.json) is writable, the rest of
# the filesystem can be read-only; listen on all interfaces so the kubelet and Prometheus reach it.
ENV PATH=/usr/local/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    STACKWATCH_STATE_DIR=/state \
    STACKWATCH_LISTEN=0.0.0.0:9464
USER 10001:10001
WORKDIR /state
EXPOSE 9464
ENTRYPOINT ["stackwatch"]
# The web console stays off in the image (it is a write surface; see docs/console.md): give
# `--console read-only` and STACKWATCH_CONSOLE_TOKEN (from a Secret) to turn it on read-only.
CMD ["watch", "--config", "/config", "--approve", "auto", "--console", "off", "--log-format", "json"]
