package org.jmamba.io;

import java.nio.file.Path;
import org.jmamba.MambaConfig;

/**
 * A parsed {@code config.json}.
 *
 * @param config the architecture (vocabulary already padded as the layout pads it)
 * @param ids    special token ids, {@link TokenIds#NONE} for the {@code mamba_ssm} layout
 * @param layout {@link ConfigJson#LAYOUT_HF} or {@link ConfigJson#LAYOUT_MAMBA_SSM}
 * @param source the file it was read from
 */
public record LoadedConfig(MambaConfig config, TokenIds ids, String layout, Path source) {
}
