# leakwatch container image: a static binary on distroless, running as the
# distroless "nonroot" user (65532). Build:
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#                --build-arg REVISION=$(git rev-parse HEAD) -t leakwatch .
#
# The version and revision end up in leakwatch_build_info.

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/leakwatch/leakwatch/internal/version.Version=${VERSION} -X github.com/leakwatch/leakwatch/internal/version.Revision=${REVISION}" \
      -o /out/leakwatch ./cmd/leakwatch \
 && mkdir -p /out/state /out/etc \
 && cp config/leakwatch.yaml /out/etc/leakwatch.yaml

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/leakwatch /leakwatch
COPY --from=build /out/etc/leakwatch.yaml /etc/leakwatch/leakwatch.yaml
# The state directory must exist and belong to the runtime user before a
# volume is mounted on it: a new volume copies this ownership.
COPY --from=build --chown=65532:65532 /out/state /var/lib/leakwatch
USER 65532:65532
# 9723: metrics, status and health over HTTP. 5514: syslog receiver (an
# unprivileged port; CMS servers send to it, or a host relays 514 to it).
EXPOSE 9723/tcp 5514/udp 5514/tcp
VOLUME ["/var/lib/leakwatch"]
ENTRYPOINT ["/leakwatch"]
CMD ["run", "--config", "/etc/leakwatch/leakwatch.yaml"]
