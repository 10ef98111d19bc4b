package org.jmamba.io;

import java.nio.file.Path;
import org.jmamba.MambaConfig;
import org.jmamba.MambaWeights;

/**
 * A fully loaded and validated model checkpoint.
 *
 * @param config      the architecture
 * @param weights     every parameter in fp32, Hugging Face naming ({@link MambaWeights#named()})
 * @param ids         special token ids the config declares (none for the mamba_ssm layout)
 * @param source      the weights file (or shard index) read
 * @param layout      config layout: {@link ConfigJson#LAYOUT_HF} or {@link ConfigJson#LAYOUT_MAMBA_SSM}
 * @param format      weights format: {@link Checkpoints#FORMAT_SAFETENSORS},
 *                    {@link Checkpoints#FORMAT_SHARDED_SAFETENSORS} or {@link Checkpoints#FORMAT_PYTORCH}
 * @param storedDtype the stored element type ("F32", "BF16", ...), or "mixed(F32,BF16)"
 */
public record Checkpoint(MambaConfig config, MambaWeights weights, TokenIds ids, Path source, String layout,
                         String format, String storedDtype) {
}
