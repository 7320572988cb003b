# esrule container image: a static binary on distroless, running as nonroot.
#   docker build -t esrule:$(git describe --always --dirty) \
#     --build-arg VERSION=$(git describe --always --dirty) --build-arg REVISION=$(git rev-parse HEAD) .
# (make image does that). The version and commit end up in `esrule version`, in the metric
# esrule_build_info and in the image's OCI labels.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o /out/esrule ./cmd/esrule

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=""
LABEL org.opencontainers.image.title="esrule" \
      org.opencontainers.image.description="Runs Elastic Security new_terms detection rules against Elasticsearch without Kibana" \
      org.opencontainers.image.source="https://github.com/esrule/esrule" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=build /out/esrule /esrule
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/esrule"]
CMD ["serve"]
