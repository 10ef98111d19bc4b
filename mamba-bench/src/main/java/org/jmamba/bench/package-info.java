/** JMH benchmarks of the CPU kernels and model. */
package org.jmamba.bench;
