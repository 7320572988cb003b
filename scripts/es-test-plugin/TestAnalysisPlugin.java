package org.esrule.testanalysis;

import java.util.Map;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.standard.StandardTokenizer;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/** Test-only stand-ins for the analysis-common components the .security index settings name. */
public class TestAnalysisPlugin extends Plugin implements AnalysisPlugin {
    static TokenFilterFactory identity(String name) {
        return new TokenFilterFactory() {
            @Override
            public String name() { return name; }
            @Override
            public TokenStream create(TokenStream ts) { return ts; }
        };
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        return Map.of(
            "pattern_capture", (indexSettings, env, name, settings) -> identity(name),
            "unique", (indexSettings, env, name, settings) -> identity(name));
    }

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        return Map.of("uax_url_email", (indexSettings, env, name, settings) -> TokenizerFactory.newFactory(name, StandardTokenizer::new));
    }
}
