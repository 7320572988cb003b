# esrule container image: a static binary on distroless, running as nonroot.
#   docker build -t esrule:$(git describe --always --dirty) \
#     --build-arg VERSION=$(git describe --always --dirty) --build-arg REVISION=$(git rev-parse HEAD) .
# (make image does that). The version and commit end up in `esrule version`, in the metric
# esrule_build_info and in the image's OCI labels.
#
# Base images are pinned by digest (the tag before @ is only documentation; Docker uses the
# digest). To update: `crane digest golang:1.26` (or `docker buildx imagetools inspect`) and
# the same for the runtime image, then replace the digest and the tag comment.
#   golang:1.26.9 (multi-arch index; Go 1.26.9 with the 2026-10 security fixes; go1.26.10
#   also fixes GO-2026-6809 in crypto/x509: move to it when its image digest is known)
FROM golang:1.26.9@sha256:f1f0bcc2c524a3ced375fcb4d1ecb7aa371aa7070e112599aaca45cc02d0101b AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG REVISION=unknown
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
    -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" -o /out/esrule ./cmd/esrule

#   gcr.io/distroless/static-debian12:nonroot (multi-arch index, July 2026)
FROM gcr.io/distroless/static-debian12:nonroot@sha256:aef9602f8710ec12bde19d593fed1f76c708531bb7aba205110f1029786ead7b
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
