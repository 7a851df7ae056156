# syntax=docker/dockerfile:1
# The operator's image: built on Debian bookworm with the packages scripts/deps installs, run on bookworm-slim
# with only the shared libraries the binary links (tests/integration/test_image.py builds it and runs ldd inside).
# scripts/image builds it with docker, or with buildah where no daemon answers.

# The bases, replaceable: where debian:* cannot be pulled, scripts/image makes both with debootstrap and passes
# their local names.
ARG BUILD_IMAGE=debian:bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# deps first, alone, so the package layer is cached across source changes.
# --build-only: the build packages without the test tools (kubectl, lua) that an image build has no use for.
# ccache, with its cache in a build cache mount (BuildKit, buildah): a rebuild after a source change compiles
# only what changed.
COPY scripts/deps scripts/deps
RUN ./scripts/deps --build-only \
 && apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ccache \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN --mount=type=cache,target=/ccache,id=meshupgrade-ccache \
    export CCACHE_DIR=/ccache CCACHE_MAXSIZE=1G \
 && cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMESHUPGRADE_TESTS=OFF \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
 && cmake --build build/release --target meshupgrade-operator \
 && ccache --show-stats \
 && strip build/release/meshupgrade-operator \
 && build/release/meshupgrade-operator --version

FROM ${RUNTIME_IMAGE} AS runtime
# Runtime libraries only: cpprestsdk (with brotli, OpenSSL, zlib), yaml-cpp, spdlog and fmt, prometheus-cpp;
# ca-certificates for registries and API servers signed by public CAs.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libcpprest2.10 \
      libbrotli1 \
      libssl3 \
      zlib1g \
      libyaml-cpp0.7 \
      libspdlog1.10 \
      libfmt9 \
      libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/release/meshupgrade-operator /usr/local/bin/meshupgrade-operator
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="meshupgrade-operator" \
      org.opencontainers.image.description="Declarative osm-edge mesh upgrades: the MeshUpgrade operator" \
      org.opencontainers.image.version="${VERSION}"
# Metrics, then health probes (deploy/deployment.yaml names them).
EXPOSE 8080 8081
# 65532: the conventional "nonroot" id; numeric so that runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/meshupgrade-operator"]
