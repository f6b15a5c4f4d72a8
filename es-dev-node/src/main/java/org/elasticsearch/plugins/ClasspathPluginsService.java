package org.elasticsearch.plugins;

import org.elasticsearch.Version;
import org.elasticsearch.common.settings.Settings;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A PluginsService whose plugins are classes already on the classpath (name -> class), instead of bundles in a plugins/ folder.
 * It lives in this package because {@link LoadedPlugin}, {@code loadPlugin} and {@code loadExtensions} are package-private.
 */
public class ClasspathPluginsService extends PluginsService {
    private final List<LoadedPlugin> plugins;

    public ClasspathPluginsService(Settings settings, PluginsLoader loader, Map<String, Class<? extends Plugin>> pluginClasses) {
        super(settings, null, loader);
        List<LoadedPlugin> loaded = new ArrayList<>();
        ClassLoader classLoader = ClasspathPluginsService.class.getClassLoader();
        for (Map.Entry<String, Class<? extends Plugin>> entry : pluginClasses.entrySet()) {
            Class<? extends Plugin> pluginClass = entry.getValue();
            PluginDescriptor descriptor = new PluginDescriptor(
                entry.getKey(),
                "classpath plugin " + pluginClass.getName(),
                Version.CURRENT.toString(),
                Version.CURRENT.toString(),
                Integer.toString(Runtime.version().feature()),
                pluginClass.getName(),
                null,
                List.of(),
                false,
                false,
                false,
                false,
                PluginDescriptor.DeploymentTarget.ALL
            );
            loaded.add(new LoadedPlugin(descriptor, loadPlugin(pluginClass, settings, null), classLoader));
        }
        loadExtensions(loaded);
        this.plugins = List.copyOf(loaded);
    }

    @Override
    protected final List<LoadedPlugin> plugins() {
        return plugins;
    }
}
