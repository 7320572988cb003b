# esrule container image: a static binary on distroless, running as nonroot.
#   docker build -t esrule --build-arg VERSION=$(git describe --always --dirty) .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/esrule ./cmd/esrule

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/esrule /esrule
USER nonroot
EXPOSE 8080
ENTRYPOINT ["/esrule"]
CMD ["serve"]
