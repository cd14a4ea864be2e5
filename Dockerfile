# syntax=docker/dockerfile:1
# Build stage: the same commands .ci/run runs.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -tags nomsgpack -ldflags="-s -w" -o /tmp/dingbot-ci-build .

# Runtime stage: a static binary on distroless, running as a non-root user.
# No configuration is baked in: pass DINGTALK_* and DINGBOT_* at run time.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /tmp/dingbot-ci-build /usr/local/bin/dingbot
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/dingbot"]
CMD ["serve"]
