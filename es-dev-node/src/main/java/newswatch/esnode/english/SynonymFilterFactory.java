package newswatch.esnode.english;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.synonym.SolrSynonymParser;
import org.apache.lucene.analysis.synonym.SynonymFilter;
import org.apache.lucene.analysis.synonym.SynonymGraphFilter;
import org.apache.lucene.analysis.synonym.SynonymMap;
import org.apache.lucene.analysis.synonym.WordnetSynonymParser;
import org.apache.lucene.util.CharsRef;
import org.apache.lucene.util.CharsRefBuilder;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexService.IndexCreationContext;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalysisMode;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.CustomAnalyzer;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.util.List;
import java.util.function.Function;

/**
 * {@code synonym} and {@code synonym_graph}, with Elastic's settings: rules inline ({@code synonyms}) or from a file
 * ({@code synonyms_path}, under the config folder), {@code format} solr (default) or wordnet, {@code expand} (default
 * true), {@code lenient} (skip rules that do not analyse), {@code updateable} (search-time only). {@code synonyms_set}
 * needs the synonyms API, which this node does not have.
 *
 * Rules are analysed with the filters that come before this one in the analyzer (its tokenizer, char filters and
 * earlier token filters), so "Elections => vote" still matches once lowercase and a stemmer ran first.
 */
final class SynonymFilterFactory extends AbstractTokenFilterFactory {
    private final boolean graph;
    private final boolean expand;
    private final boolean lenient;
    private final boolean wordnet;
    private final AnalysisMode analysisMode;
    private final String rules;
    private final String origin;

    SynonymFilterFactory(IndexSettings indexSettings, Environment env, String name, Settings settings, boolean graph) {
        super(name);
        this.graph = graph;
        if (settings.hasValue("synonyms_set") && !settings.hasValue("synonyms") && !settings.hasValue("synonyms_path")) {
            throw new IllegalArgumentException(
                "[" + name + "]: `synonyms_set` needs the synonyms API, which the newswatch dev node does not have; "
                    + "use `synonyms` or `synonyms_path`"
            );
        }
        if (!settings.hasValue("synonyms") && !settings.hasValue("synonyms_path")) {
            throw new IllegalArgumentException("synonym requires either `synonyms`, `synonyms_set` or `synonyms_path` to be configured");
        }
        this.expand = settings.getAsBoolean("expand", true);
        boolean updateable = settings.getAsBoolean("updateable", false);
        this.lenient = settings.getAsBoolean("lenient", updateable);
        this.wordnet = "wordnet".equalsIgnoreCase(settings.get("format", ""));
        this.analysisMode = updateable ? AnalysisMode.SEARCH_TIME : AnalysisMode.ALL;
        // `synonyms_path` (read relative to the config folder) or the inline `synonyms`; # starts a comment
        this.rules = String.join("\n", Analysis.getWordList(env, settings, "synonyms"));
        this.origin = settings.hasValue("synonyms_path") ? settings.get("synonyms_path") : "'" + name + "' analyzer settings";
    }

    @Override
    public AnalysisMode getAnalysisMode() {
        return analysisMode;
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        throw new IllegalStateException("[" + name() + "] is built per analysis chain (getChainAwareTokenFilterFactory)");
    }

    @Override
    public TokenFilterFactory getChainAwareTokenFilterFactory(
        IndexCreationContext context,
        TokenizerFactory tokenizer,
        List<CharFilterFactory> charFilters,
        List<TokenFilterFactory> previousTokenFilters,
        Function<String, TokenFilterFactory> allFilters
    ) {
        Analyzer ruleAnalyzer = new CustomAnalyzer(
            tokenizer,
            charFilters.toArray(new CharFilterFactory[0]),
            previousTokenFilters.stream().map(TokenFilterFactory::getSynonymFilter).toArray(TokenFilterFactory[]::new)
        );
        SynonymMap map = build(ruleAnalyzer);
        String name = name();
        boolean graphFilter = graph;
        AnalysisMode mode = analysisMode;
        return new TokenFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public TokenStream create(TokenStream tokenStream) {
                if (map.fst == null) {
                    return tokenStream;
                }
                return graphFilter ? new SynonymGraphFilter(tokenStream, map, false) : new SynonymFilter(tokenStream, map, false);
            }

            @Override
            public TokenFilterFactory getSynonymFilter() {
                return IDENTITY_FILTER; // a later synonym filter must not see this one's stacked tokens in its rules
            }

            @Override
            public AnalysisMode getAnalysisMode() {
                return mode;
            }
        };
    }

    private SynonymMap build(Analyzer ruleAnalyzer) {
        try (Reader reader = new StringReader(rules)) {
            SynonymMap.Parser parser = wordnet
                ? new LenientWordnetParser(expand, lenient, ruleAnalyzer)
                : new LenientSolrParser(expand, lenient, ruleAnalyzer);
            parser.parse(reader);
            return parser.build();
        } catch (Exception e) {
            throw new IllegalArgumentException("failed to build synonyms from [" + origin + "]", e);
        }
    }

    /** With {@code lenient}, a rule whose words analyse to nothing (a stop word, say) is skipped instead of failing. */
    private static final class LenientSolrParser extends SolrSynonymParser {
        private final boolean lenient;

        LenientSolrParser(boolean expand, boolean lenient, Analyzer analyzer) {
            super(true, expand, analyzer);
            this.lenient = lenient;
        }

        @Override
        public CharsRef analyze(String text, CharsRefBuilder reuse) throws IOException {
            return Leniency.analyze(lenient, () -> super.analyze(text, reuse));
        }

        @Override
        public void add(CharsRef input, CharsRef output, boolean includeOrig) {
            if (!Leniency.skip(lenient, input, output)) {
                super.add(input, output, includeOrig);
            }
        }
    }

    private static final class LenientWordnetParser extends WordnetSynonymParser {
        private final boolean lenient;

        LenientWordnetParser(boolean expand, boolean lenient, Analyzer analyzer) {
            super(true, expand, analyzer);
            this.lenient = lenient;
        }

        @Override
        public CharsRef analyze(String text, CharsRefBuilder reuse) throws IOException {
            return Leniency.analyze(lenient, () -> super.analyze(text, reuse));
        }

        @Override
        public void add(CharsRef input, CharsRef output, boolean includeOrig) {
            if (!Leniency.skip(lenient, input, output)) {
                super.add(input, output, includeOrig);
            }
        }
    }

    private static final class Leniency {
        interface Analysis {
            CharsRef run() throws IOException;
        }

        static CharsRef analyze(boolean lenient, Analysis analysis) throws IOException {
            try {
                return analysis.run();
            } catch (IllegalArgumentException e) {
                if (lenient) {
                    return new CharsRef(""); // dropped by add()
                }
                throw e;
            }
        }

        static boolean skip(boolean lenient, CharsRef input, CharsRef output) {
            return lenient && (input.length == 0 || output.length == 0);
        }
    }
}
