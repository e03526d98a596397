# syntax=docker/dockerfile:1
#
# Container image for hello-oauth2-rs, the Mattermost App (Apps Framework, HTTP).
#
#   docker build -t hello-oauth2-rs:dev .
#   docker run --rm -p 4000:4000 \
#     -e APP_SECRET="$(openssl rand -hex 32)" \
#     -e APP_ROOT_URL=http://<host Mattermost reaches>:4000 \
#     hello-oauth2-rs:dev
#
# All settings come from the environment (APP_SECRET, APP_TOKEN_KEY, APP_ROOT_URL
# and the others in docs/INSTALL.md's Settings reference); nothing is baked in
# except harmless defaults.
#
# This file was written without a Docker engine at hand (none runs on the
# project's build machines): it is kept deliberately plain so that it can be
# reviewed by eye. scripts/validate-deploy lints it with hadolint.

ARG RUST_VERSION=1.95

############################################################################
# Build stage. Same Debian release (bookworm) as the runtime stage, so the
# binary links against the glibc it will run with. The full (not -slim) Rust
# image is used because it already carries everything crates with C parts
# (ring) might want; its size does not reach the final image.
FROM rust:${RUST_VERSION}-bookworm AS builder

WORKDIR /build

# 1. Dependencies only: the manifests plus empty crate roots. This layer (and
#    the compiled dependencies in it) is reused for as long as Cargo.toml and
#    Cargo.lock do not change, so editing src/ does not rebuild every dependency.
#    The image is the app (src/lib.rs, src/main.rs) on the protocol library
#    crates/mattermost-apps; cargo also needs the manifests (and a crate root)
#    of the workspace's test crates, crates/mattermost-apps-testkit and
#    tests/support, which are never built here (`-p hello-oauth2-rs`: the app
#    and what it depends on). Cargo refuses a manifest whose declared [[bench]],
#    [[test]] or [[example]] files are missing, so benches/ and the library's
#    tests/ and examples/ come along (small, rarely changed, not built here).
COPY Cargo.toml Cargo.lock ./
COPY crates/mattermost-apps/Cargo.toml ./crates/mattermost-apps/Cargo.toml
COPY crates/mattermost-apps-testkit/Cargo.toml ./crates/mattermost-apps-testkit/Cargo.toml
COPY tests/support/Cargo.toml ./tests/support/Cargo.toml
COPY benches ./benches
COPY crates/mattermost-apps/tests ./crates/mattermost-apps/tests
COPY crates/mattermost-apps/examples ./crates/mattermost-apps/examples
RUN mkdir src crates/mattermost-apps/src crates/mattermost-apps-testkit/src tests/support/src \
 && echo 'fn main() {}' > src/main.rs \
 && : > src/lib.rs \
 && : > crates/mattermost-apps/src/lib.rs \
 && : > crates/mattermost-apps-testkit/src/lib.rs \
 && : > tests/support/src/lib.rs \
 && cargo build --release --locked -p hello-oauth2-rs \
 && rm -rf src crates/mattermost-apps/src crates/mattermost-apps-testkit/src

# 2. The real sources. manifest.json and static/ are needed here too: the
#    code compiles them in (include_str!/include_bytes!). `touch` makes the
#    crate roots newer than the stub build's fingerprints whatever the files'
#    mtimes in the build context were (a checkout older than the stub build
#    would otherwise be taken as up to date and the empty stub shipped).
COPY manifest.json ./manifest.json
COPY static ./static
COPY crates ./crates
COPY src ./src
RUN touch src/main.rs src/lib.rs crates/mattermost-apps/src/lib.rs \
 && cargo build --release --locked -p hello-oauth2-rs \
 && install -D -m 0755 target/release/hello-oauth2-rs /out/hello-oauth2-rs

############################################################################
# Runtime stage: debian:bookworm-slim rather than distroless/cc.
# - The HEALTHCHECK needs an HTTP client inside the image; distroless has none
#   (no shell, no curl), and the app has no self-check mode. curl on slim is
#   the plain, reviewable answer; it costs a few MB.
# - A shell and apt make a broken deployment debuggable with `docker exec`.
# - TLS is rustls with the Mozilla roots compiled in (webpki-roots), so the
#   binary needs no OpenSSL and no system trust store. ca-certificates is
#   still installed for curl and in case the app ever switches to the
#   system's roots (e.g. to trust a company CA for a custom provider).
FROM debian:bookworm-slim AS runtime

# Debian's stable packages only receive security fixes, so apt versions are
# left unpinned on purpose: a rebuild picks up those fixes.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*

# Unprivileged user with a fixed numeric UID/GID (Kubernetes' runAsNonRoot can
# only verify a numeric USER). /var/lib/hello-oauth2-rs is the only writable
# place: it is where the app stores a generated JWT secret when APP_SECRET is
# not given (mount a volume there to keep it). With APP_SECRET set, the app
# writes nothing and the root filesystem can be read-only.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin app \
 && install -d -o app -g app -m 0700 /var/lib/hello-oauth2-rs

# The app's files live in its working directory. The current code compiles
# manifest.json and static/ into the binary; the copies here keep the image
# right should it read them from the working directory instead.
WORKDIR /app
COPY manifest.json ./manifest.json
COPY static ./static
COPY --from=builder /out/hello-oauth2-rs /usr/local/bin/hello-oauth2-rs

# APP_SECRET_FILE and APP_TOKEN_KEY_FILE are paths, not secrets (hadolint
# flags the names only).
# hadolint ignore=DL3064
ENV APP_LISTEN=0.0.0.0:4000 \
    APP_SECRET_FILE=/var/lib/hello-oauth2-rs/app-secret \
    APP_TOKEN_KEY_FILE=/var/lib/hello-oauth2-rs/app-token-key \
    RUST_LOG=info

USER 10001:10001
EXPOSE 4000

# /healthz answers 200 while the server is up. The port is taken from
# APP_LISTEN so overriding it does not break the check; the address is
# loopback, so keep APP_LISTEN on 0.0.0.0 (or 127.0.0.1) if you change it.
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/bin/sh", "-c", "curl -fsS -o /dev/null \"http://127.0.0.1:${APP_LISTEN##*:}/healthz\" || exit 1"]

ENTRYPOINT ["/usr/local/bin/hello-oauth2-rs"]
