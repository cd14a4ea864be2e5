# syntax=docker/dockerfile:1
# Build stage: the same commands .ci/run runs.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -tags nomsgpack -ldflags="-s -w" -o /tmp/dingbot-ci-build .
# An empty data directory, mode 0700, for the runtime stage: distroless has no
# shell to mkdir with. COPY --chown below creates it owned by nonroot.
RUN mkdir -m 0700 /tmp/dingbot-data

# Runtime stage: a static binary on distroless, running as a non-root user.
# No configuration is baked in but the data directory: pass DINGTALK_* and
# DINGBOT_* at run time.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /tmp/dingbot-ci-build /usr/local/bin/dingbot
# The working directory is / and not writable by nonroot, so the default
# DINGBOT_DATA_DIR (data, relative) could not be created. SQLite lives in
# /var/lib/dingbot instead, owned by nonroot (uid 65532), mode 0700; mount a
# volume there to keep it. With DINGBOT_DATABASE_URL (PostgreSQL) nothing is
# written and the root filesystem can be read-only.
COPY --from=build --chown=nonroot:nonroot /tmp/dingbot-data /var/lib/dingbot
ENV DINGBOT_DATA_DIR=/var/lib/dingbot
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/dingbot"]
CMD ["serve"]
