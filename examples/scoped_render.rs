//! A tiny path tracer, the use case the scoped arena is made for: every
//! sample opens a scope of one `MemoryArena`, builds its BSDFs there as trait
//! objects (lobes, a slice of `&dyn Lobe`, the BSDF itself, a path record in
//! an `allocator_api2` vector), and drops the scope when the sample is done.
//! After the first sample the arena allocates nothing: every later sample
//! reuses the same block.
//!
//! Run with `cargo run --example scoped_render`.

use managed::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq)]
struct V3(f32, f32, f32);

impl V3 {
    fn add(self, o: V3) -> V3 {
        V3(self.0 + o.0, self.1 + o.1, self.2 + o.2)
    }
    fn sub(self, o: V3) -> V3 {
        V3(self.0 - o.0, self.1 - o.1, self.2 - o.2)
    }
    fn mul(self, o: V3) -> V3 {
        V3(self.0 * o.0, self.1 * o.1, self.2 * o.2)
    }
    fn scale(self, s: f32) -> V3 {
        V3(self.0 * s, self.1 * s, self.2 * s)
    }
    fn dot(self, o: V3) -> f32 {
        self.0 * o.0 + self.1 * o.1 + self.2 * o.2
    }
    fn norm(self) -> V3 {
        self.scale(1.0 / self.dot(self).sqrt())
    }
    fn luminance(self) -> f32 {
        0.2126 * self.0 + 0.7152 * self.1 + 0.0722 * self.2
    }
}

/// A small deterministic random number generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
    /// A cosine-weighted direction around `n`.
    fn hemisphere(&mut self, n: V3) -> V3 {
        let (u, v) = (self.next(), self.next());
        let r = u.sqrt();
        let phi = 2.0 * std::f32::consts::PI * v;
        let t = if n.0.abs() > 0.5 {
            V3(0.0, 1.0, 0.0)
        } else {
            V3(1.0, 0.0, 0.0)
        };
        let b1 = V3(
            n.1 * t.2 - n.2 * t.1,
            n.2 * t.0 - n.0 * t.2,
            n.0 * t.1 - n.1 * t.0,
        )
        .norm();
        let b2 = V3(
            n.1 * b1.2 - n.2 * b1.1,
            n.2 * b1.0 - n.0 * b1.2,
            n.0 * b1.1 - n.1 * b1.0,
        );
        b1.scale(r * phi.cos())
            .add(b2.scale(r * phi.sin()))
            .add(n.scale((1.0 - u).max(0.0).sqrt()))
    }
}

/// One scattering lobe of a BSDF.
trait Lobe {
    /// Reflectance towards `wi` seen from `wo` around normal `n`.
    fn eval(&self, wo: V3, wi: V3, n: V3) -> V3;
}

#[derive(Clone, Copy)]
struct Lambertian(V3);
impl Lobe for Lambertian {
    fn eval(&self, _wo: V3, _wi: V3, _n: V3) -> V3 {
        self.0
    }
}

#[derive(Clone, Copy)]
struct Glossy {
    tint: V3,
    exponent: f32,
}
impl Lobe for Glossy {
    fn eval(&self, wo: V3, wi: V3, n: V3) -> V3 {
        let h = wo.add(wi).norm();
        self.tint
            .scale(h.dot(n).max(0.0).powf(self.exponent) * (self.exponent + 2.0) / 8.0)
    }
}

/// A lobe with a heap-owned tint table: it needs dropping, and is dropped
/// when the sample's scope ends.
struct Banded {
    bands: Vec<V3>,
}
impl Lobe for Banded {
    fn eval(&self, _wo: V3, wi: V3, _n: V3) -> V3 {
        let i = ((wi.1 * 0.5 + 0.5) * self.bands.len() as f32) as usize;
        self.bands[i.min(self.bands.len() - 1)]
    }
}

/// A BSDF: lobes that live in the same scope. `Copy`, and holds references
/// into the scope, so it is stored with `alloc_copy`.
#[derive(Clone, Copy)]
struct Bsdf<'s> {
    lobes: &'s [&'s dyn Lobe],
    normal: V3,
}

impl Bsdf<'_> {
    fn eval(&self, wo: V3, wi: V3) -> V3 {
        self.lobes.iter().fold(V3(0.0, 0.0, 0.0), |acc, l| {
            acc.add(l.eval(wo, wi, self.normal))
        })
    }
}

enum Material {
    Matte(V3),
    Plastic(V3),
    Striped,
}

impl Material {
    /// Builds the BSDF at a hit in the sample's scope.
    fn bsdf<'s>(&self, normal: V3, scope: &'s ArenaScope<'_>) -> &'s Bsdf<'s> {
        let lobes: &'s [&'s dyn Lobe] = match self {
            Material::Matte(c) => {
                scope.alloc_slice_copy(&[scope.alloc(Lambertian(*c)) as &dyn Lobe])
            }
            Material::Plastic(c) => scope.alloc_slice_copy(&[
                scope.alloc(Lambertian(c.scale(0.8))) as &dyn Lobe,
                scope.alloc(Glossy {
                    tint: V3(0.2, 0.2, 0.2),
                    exponent: 40.0,
                }),
            ]),
            Material::Striped => scope.alloc_slice_copy(&[scope.alloc(Banded {
                bands: vec![V3(0.8, 0.2, 0.2), V3(0.9, 0.9, 0.9), V3(0.2, 0.2, 0.8)],
            }) as &dyn Lobe]),
        };
        scope.alloc_copy(Bsdf { lobes, normal })
    }
}

struct Sphere {
    center: V3,
    radius: f32,
    material: Material,
}

impl Sphere {
    fn hit(&self, origin: V3, dir: V3) -> Option<f32> {
        let oc = origin.sub(self.center);
        let b = oc.dot(dir);
        let c = oc.dot(oc) - self.radius * self.radius;
        let disc = b * b - c;
        if disc < 0.0 {
            return None;
        }
        let t = -b - disc.sqrt();
        (t > 1e-3).then_some(t)
    }
}

fn sky(dir: V3) -> V3 {
    let t = 0.5 * (dir.1 + 1.0);
    V3(1.0, 1.0, 1.0)
        .scale(1.0 - t)
        .add(V3(0.5, 0.7, 1.0).scale(t))
}

/// Traces one camera sample; every allocation lives in `scope`.
fn trace(
    scene: &[Sphere],
    mut origin: V3,
    mut dir: V3,
    rng: &mut Rng,
    scope: &ArenaScope<'_>,
) -> V3 {
    let mut throughput = V3(1.0, 1.0, 1.0);
    // The path's vertices, in an allocator-api2 vector living in the scope.
    let mut path = allocator_api2::vec::Vec::new_in(scope);
    for _bounce in 0..4 {
        let hit = scene
            .iter()
            .filter_map(|s| s.hit(origin, dir).map(|t| (t, s)))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let Some((t, sphere)) = hit else {
            return throughput.mul(sky(dir));
        };
        let p = origin.add(dir.scale(t));
        path.push(p);
        let n = p.sub(sphere.center).norm();
        let bsdf = sphere.material.bsdf(n, scope);
        let wi = rng.hemisphere(n);
        throughput = throughput.mul(bsdf.eval(dir.scale(-1.0), wi));
        origin = p;
        dir = wi;
    }
    debug_assert_eq!(path.len(), 4);
    V3(0.0, 0.0, 0.0)
}

pub(crate) fn main() {
    let scene = [
        Sphere {
            center: V3(0.0, -100.5, -1.0),
            radius: 100.0,
            material: Material::Matte(V3(0.5, 0.5, 0.5)),
        },
        Sphere {
            center: V3(-0.6, 0.0, -1.2),
            radius: 0.5,
            material: Material::Plastic(V3(0.9, 0.3, 0.2)),
        },
        Sphere {
            center: V3(0.6, 0.0, -1.0),
            radius: 0.5,
            material: Material::Striped,
        },
    ];
    let (width, height, spp) = (60, 24, 16);
    let mut arena = MemoryArena::new(1);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut most_live = 0;
    // Samples after which the arena held more memory than before.
    let mut growths = 0;
    let shades = b" .:-=+*#%@";
    for y in 0..height {
        let mut row = String::new();
        for x in 0..width {
            let mut color = V3(0.0, 0.0, 0.0);
            for _ in 0..spp {
                // One scope per sample: everything it allocates is scratch.
                let reserved = arena.stats().reserved_bytes;
                let scope = arena.allocator();
                let u = (x as f32 + rng.next()) / width as f32 * 2.0 - 1.0;
                let v = 1.0 - (y as f32 + rng.next()) / height as f32 * 2.0;
                let dir = V3(u * 1.6, v * 0.8, -1.0).norm();
                color = color.add(trace(&scene, V3(0.0, 0.0, 0.0), dir, &mut rng, &scope));
                most_live = most_live.max(scope.stats().live_bytes);
                drop(scope);
                if arena.stats().reserved_bytes != reserved {
                    growths += 1;
                }
            }
            let l = (color.scale(1.0 / spp as f32).luminance().sqrt() * 9.0) as usize;
            row.push(char::from(shades[l.min(9)]));
        }
        println!("{row}");
    }
    let stats = arena.stats();
    println!(
        "{} samples, one scope each; most bytes live in a sample: {most_live}; arena: {} block(s), {stats}",
        width * height * spp,
        arena.block_count(),
    );
    println!("the arena grew after {growths} of them (the first that allocated)");
    assert_eq!(
        growths, 1,
        "steady state: no allocation after the first block"
    );
}
