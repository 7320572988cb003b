package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/esrule/esrule/esclient"
)

// indexSettings are the settings a bulk load changes, as they were before.
type indexSettings struct {
	name            string
	refreshInterval *string // nil: not set (the default)
	replicas        *string
}

// responseError turns a failed response into an error naming what was done.
func responseError(action string, res *esapi.Response) error {
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return fmt.Errorf("%s: %w", action, esclient.DecodeError(res.StatusCode, body))
}

// prepareIndices creates missing indices (index templates apply; a template
// that creates data streams gets a data stream), then turns replicas and
// refresh off. It returns the previous settings for restoreIndices.
func prepareIndices(ctx context.Context, c esapi.Transport, indices []string) ([]indexSettings, error) {
	var saved []indexSettings
	for _, name := range indices {
		if err := ensureIndex(ctx, c, name); err != nil {
			return saved, err
		}
		s, err := readSettings(ctx, c, name)
		if err != nil {
			return saved, err
		}
		saved = append(saved, s)
		if err := putSettings(ctx, c, name, map[string]any{"refresh_interval": "-1", "number_of_replicas": 0}); err != nil {
			return saved, err
		}
	}
	return saved, nil
}

// restoreIndices puts back the saved settings and refreshes the indices.
func restoreIndices(ctx context.Context, c esapi.Transport, saved []indexSettings) error {
	api := esapi.New(c)
	var errs []error
	var names []string
	for _, s := range saved {
		settings := map[string]any{"refresh_interval": nil, "number_of_replicas": nil}
		if s.refreshInterval != nil {
			settings["refresh_interval"] = *s.refreshInterval
		}
		if s.replicas != nil {
			settings["number_of_replicas"] = *s.replicas
		}
		if err := putSettings(ctx, c, s.name, settings); err != nil {
			errs = append(errs, err)
		}
		names = append(names, s.name)
	}
	if len(names) > 0 {
		res, err := api.Indices.Refresh(api.Indices.Refresh.WithContext(ctx), api.Indices.Refresh.WithIndex(names...))
		if err != nil {
			errs = append(errs, fmt.Errorf("refresh %s: %w", strings.Join(names, ","), err))
		} else {
			if res.IsError() {
				errs = append(errs, responseError("refresh "+strings.Join(names, ","), res))
			}
			res.Body.Close()
		}
	}
	return errors.Join(errs...)
}

func ensureIndex(ctx context.Context, c esapi.Transport, name string) error {
	api := esapi.New(c)
	res, err := api.Indices.Exists([]string{name}, api.Indices.Exists.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("check index %s: %w", name, err)
	}
	res.Body.Close()
	if res.StatusCode == 200 {
		return nil
	}
	res, err = api.Indices.Create(name, api.Indices.Create.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("create index %s: %w", name, err)
	}
	defer res.Body.Close()
	if !res.IsError() {
		return nil
	}
	cerr := responseError("create index "+name, res)
	if !strings.Contains(cerr.Error(), "data stream") {
		return cerr
	}
	ds, err := api.Indices.CreateDataStream(name, api.Indices.CreateDataStream.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("create data stream %s: %w", name, err)
	}
	defer ds.Body.Close()
	if ds.IsError() {
		return responseError("create data stream "+name, ds)
	}
	return nil
}

func readSettings(ctx context.Context, c esapi.Transport, name string) (indexSettings, error) {
	api := esapi.New(c)
	res, err := api.Indices.GetSettings(api.Indices.GetSettings.WithContext(ctx), api.Indices.GetSettings.WithIndex(name),
		api.Indices.GetSettings.WithFlatSettings(true))
	if err != nil {
		return indexSettings{}, fmt.Errorf("read settings of %s: %w", name, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		return indexSettings{}, responseError("read settings of "+name, res)
	}
	var body map[string]struct {
		Settings map[string]any `json:"settings"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return indexSettings{}, fmt.Errorf("decode settings of %s: %w", name, err)
	}
	s := indexSettings{name: name}
	for _, idx := range body { // a data stream answers with its backing indices; they share settings
		if v, ok := idx.Settings["index.refresh_interval"].(string); ok {
			s.refreshInterval = &v
		}
		if v, ok := idx.Settings["index.number_of_replicas"].(string); ok {
			s.replicas = &v
		}
		break
	}
	return s, nil
}

func putSettings(ctx context.Context, c esapi.Transport, name string, settings map[string]any) error {
	api := esapi.New(c)
	body, err := json.Marshal(map[string]any{"index": settings})
	if err != nil {
		return fmt.Errorf("encode settings for %s: %w", name, err)
	}
	res, err := api.Indices.PutSettings(strings.NewReader(string(body)), api.Indices.PutSettings.WithContext(ctx),
		api.Indices.PutSettings.WithIndex(name))
	if err != nil {
		return fmt.Errorf("put settings of %s: %w", name, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		return responseError("put settings of "+name, res)
	}
	return nil
}
