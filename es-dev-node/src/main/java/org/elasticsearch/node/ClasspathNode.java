package org.elasticsearch.node;

import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;

import java.util.Map;
import java.util.Set;

/**
 * A Node whose plugins come from the classpath. {@link NodeConstruction} and {@link NodeServiceProvider}
 * are package-private, hence this package. Internal API: pinned to the exact Elasticsearch version in pom.xml.
 */
public class ClasspathNode extends Node {
    public ClasspathNode(Settings settings, Map<String, Class<? extends Plugin>> pluginClasses) {
        super(
            NodeConstruction.prepareConstruction(
                new Environment(settings, null),
                PluginsLoader.createPluginsLoader(Set.of(), Set.of(), Map.of(), false),
                new NodeServiceProvider() {
                    @Override
                    PluginsService newPluginService(Environment environment, PluginsLoader pluginsLoader) {
                        return new ClasspathPluginsService(environment.settings(), pluginsLoader, pluginClasses);
                    }
                },
                true
            )
        );
    }
}
