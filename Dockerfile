# syntax=docker/dockerfile:1
# The operator's image: built on Debian bookworm with the packages scripts/deps installs, run on bookworm-slim
# with only the shared libraries the binary links (tests/integration/test_dockerfile.py checks them against ldd).

FROM debian:bookworm AS build
WORKDIR /src
# deps first, alone, so the package layer is cached across source changes.
# --build-only: the build packages without the test tools (kubectl, lua) that an image build has no use for.
COPY scripts/deps scripts/deps
RUN ./scripts/deps --build-only \
 && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DMESHUPGRADE_TESTS=OFF \
 && cmake --build build/release --target meshupgrade-operator \
 && strip build/release/meshupgrade-operator \
 && build/release/meshupgrade-operator --version

FROM debian:bookworm-slim AS runtime
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
