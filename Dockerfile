# Build: the release binary, with the docs assets and migrations embedded.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src src
COPY migrations migrations
RUN cargo build --release --locked --bin anct-formations

# Run: a small image with the binary alone, as an unprivileged user.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home anct
COPY --from=build /src/target/release/anct-formations /usr/local/bin/anct-formations
USER anct
ENV BIND_ADDRESS=0.0.0.0:8080 \
    RUST_LOG=info
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/8080 && printf "GET /health/ready HTTP/1.0\r\n\r\n" >&3 && head -n 1 <&3 | grep -q " 200 "'
ENTRYPOINT ["anct-formations"]
CMD ["serve"]
