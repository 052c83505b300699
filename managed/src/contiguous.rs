//! ContiguousUniformPool: dense storage behind stable proxies (seed 002).
