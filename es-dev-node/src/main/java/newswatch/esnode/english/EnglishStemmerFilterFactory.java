package newswatch.esnode.english;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishMinimalStemFilter;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.tartarus.snowball.ext.EnglishStemmer;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;

/**
 * The {@code stemmer} token filter for the English stemmers Elastic documents ({@code language}, or its older spelling
 * {@code name}; default {@code porter}). Other languages are refused with a message naming the ones available here.
 */
final class EnglishStemmerFilterFactory extends AbstractTokenFilterFactory {
    /** language (lowercase, both the snake_case and the camelCase spellings Elastic accepts) -> filter */
    static final Map<String, UnaryOperator<TokenStream>> STEMMERS = new TreeMap<>();
    static {
        STEMMERS.put("english", PorterStemFilter::new);
        STEMMERS.put("porter", PorterStemFilter::new);
        STEMMERS.put("light_english", KStemFilter::new);
        STEMMERS.put("lightenglish", KStemFilter::new);
        STEMMERS.put("kstem", KStemFilter::new);
        STEMMERS.put("minimal_english", EnglishMinimalStemFilter::new);
        STEMMERS.put("minimalenglish", EnglishMinimalStemFilter::new);
        STEMMERS.put("possessive_english", EnglishPossessiveFilter::new);
        STEMMERS.put("possessiveenglish", EnglishPossessiveFilter::new);
        STEMMERS.put("porter2", in -> new SnowballFilter(in, new EnglishStemmer()));
    }

    private final UnaryOperator<TokenStream> stemmer;

    EnglishStemmerFilterFactory(IndexSettings indexSettings, Environment env, String name, Settings settings) {
        super(name);
        String language = settings.get("language", settings.get("name", "porter"));
        stemmer = STEMMERS.get(language.toLowerCase(Locale.ROOT));
        if (stemmer == null) {
            throw new IllegalArgumentException(
                "stemmer language [" + language + "] is not available on the newswatch dev node (English only: english, "
                    + "light_english, minimal_english, possessive_english, porter, porter2, kstem)"
            );
        }
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return stemmer.apply(tokenStream);
    }
}
