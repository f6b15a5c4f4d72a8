package newswatch.esnode.english;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.PreBuiltAnalyzerProviderFactory;
import org.elasticsearch.index.analysis.PreConfiguredTokenFilter;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.indices.analysis.PreBuiltCacheFactory.CachingStrategy;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.elasticsearch.plugins.AnalysisPlugin.requiresAnalysisSettings;

/**
 * English analysis for the embedded node: Lucene's own components (lucene-analysis-common, already on the server's
 * classpath) registered under the names Elastic's analysis-common module gives them, with the same settings, so an
 * index template written for a full distribution works here unchanged.
 *
 * <ul>
 *   <li>analyzer {@code english} (settings {@code stopwords}, {@code stopwords_path}, {@code stem_exclusion})</li>
 *   <li>token filters {@code stemmer} (English languages only), {@code porter_stem}, {@code kstem},
 *       {@code keyword_marker}, {@code synonym}, {@code synonym_graph}, {@code asciifolding}</li>
 *   <li>pre-configured filters (usable by name without a definition): {@code stemmer}, {@code porter_stem},
 *       {@code kstem}, {@code stop} (English stop words), {@code asciifolding}</li>
 * </ul>
 *
 * The server itself already has {@code standard}, {@code lowercase}, {@code stop} (configurable) and {@code shingle}.
 */
public class EnglishAnalysisPlugin extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
        Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> analyzers = new TreeMap<>();
        analyzers.put("english", EnglishAnalyzerProvider::new);
        return analyzers;
    }

    @Override
    public List<PreBuiltAnalyzerProviderFactory> getPreBuiltAnalyzerProviderFactories() {
        // `"analyzer": "english"` in a mapping or in _analyze without an index definition
        return List.of(new PreBuiltAnalyzerProviderFactory("english", CachingStrategy.LUCENE, EnglishAnalyzer::new));
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        Map<String, AnalysisProvider<TokenFilterFactory>> filters = new TreeMap<>();
        filters.put("stemmer", EnglishStemmerFilterFactory::new);
        filters.put("porter_stem", (indexSettings, env, name, settings) -> SimpleFilterFactory.of(name, PorterStemFilter::new));
        filters.put("kstem", (indexSettings, env, name, settings) -> SimpleFilterFactory.of(name, KStemFilter::new));
        filters.put("asciifolding", AsciiFoldingFilterFactory::new);
        filters.put("keyword_marker", requiresAnalysisSettings(KeywordMarkerFilterFactory::new));
        filters.put("synonym", requiresAnalysisSettings((indexSettings, env, name, settings) ->
            new SynonymFilterFactory(indexSettings, env, name, settings, false)));
        filters.put("synonym_graph", requiresAnalysisSettings((indexSettings, env, name, settings) ->
            new SynonymFilterFactory(indexSettings, env, name, settings, true)));
        return filters;
    }

    @Override
    public List<PreConfiguredTokenFilter> getPreConfiguredTokenFilters() {
        return List.of(
            PreConfiguredTokenFilter.singleton("stemmer", false, PorterStemFilter::new),
            PreConfiguredTokenFilter.singleton("porter_stem", false, PorterStemFilter::new),
            PreConfiguredTokenFilter.singleton("kstem", false, KStemFilter::new),
            PreConfiguredTokenFilter.singleton("asciifolding", true, ASCIIFoldingFilter::new),
            // the stop filter is in lucene-core, the English stop word set in lucene-analysis-common
            PreConfiguredTokenFilter.singleton("stop", false, in -> new StopFilter(in, EnglishAnalyzer.ENGLISH_STOP_WORDS_SET))
        );
    }
}
