package newswatch.esnode.english;

import org.apache.lucene.analysis.TokenStream;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;

import java.util.function.UnaryOperator;

/** A token filter without settings (e.g. {@code porter_stem}, {@code kstem}) defined by {@code "type": ...}. */
final class SimpleFilterFactory extends AbstractTokenFilterFactory {
    private final UnaryOperator<TokenStream> filter;

    private SimpleFilterFactory(String name, UnaryOperator<TokenStream> filter) {
        super(name);
        this.filter = filter;
    }

    static SimpleFilterFactory of(String name, UnaryOperator<TokenStream> filter) {
        return new SimpleFilterFactory(name, filter);
    }

    @Override
    public TokenStream create(TokenStream tokenStream) {
        return filter.apply(tokenStream);
    }
}
