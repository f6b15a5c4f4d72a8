package newswatch.esnode.english;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.miscellaneous.PatternKeywordMarkerFilter;
import org.apache.lucene.analysis.miscellaneous.SetKeywordMarkerFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.Analysis;

import java.util.regex.Pattern;

/**
 * {@code keyword_marker}: marks tokens as keywords so the stemmers after it leave them alone. Exactly one of
 * {@code keywords} (list), {@code keywords_path} (file under the config folder) or {@code keywords_pattern} (regex);
 * {@code ignore_case} for the word lists.
 */
final class KeywordMarkerFilterFactory extends AbstractTokenFilterFactory {
    private final CharArraySet keywords;
    private final Pattern pattern;

    KeywordMarkerFilterFactory(IndexSettings indexSettings, Environment env, String name, Settings settings) {
        super(name);
        String regex = settings.get("keywords_pattern");
        if (regex != null) {
            if (settings.get("keywords") != null || settings.get("keywords_path") != null) {
                throw new IllegalArgumentException("cannot specify both `keywords_pattern` and `keywords` or `keywords_path`");
            }
            pattern = Pattern.compile(regex);
            keywords = null;
            return;
        }
        CharArraySet words = Analysis.getWordSet(env, settings, "keywords");
        if (words == null) {
            throw new IllegalArgumentException(
                "keyword filter requires either `keywords`, `keywords_path`, or `keywords_pattern` to be configured"
            );
        }
        keywords = new CharArraySet(words, settings.getAsBoolean("ignore_case", false));
        pattern = null;
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return pattern != null ? new PatternKeywordMarkerFilter(tokenStream, pattern) : new SetKeywordMarkerFilter(tokenStream, keywords);
    }
}
