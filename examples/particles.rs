//! A particle simulation on a `ContiguousUniformPool`, written as ordinary
//! Rust: a `World` struct owns the pool together with keys into it (a name
//! index and emitters that remember their particles), every frame walks
//! the pool once at slice speed, dead particles are removed during walks,
//! and the pool gives memory back as the population falls.
//!
//! The last part puts the pool and the compacting region together, both
//! ways: a pool whose objects hold region items is compacted with the
//! region, and region objects hold pool keys.
//!
//! Run with `cargo run --example particles`.

use std::collections::HashMap;
use std::ops::{Add, Mul};

use managed::prelude::*;

/// A 2D vector: an ordinary type, with no trait impl for the pool.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Vec2 {
    x: f32,
    y: f32,
}

impl Vec2 {
    const fn new(x: f32, y: f32) -> Self {
        Self { x, y }
    }

    fn length_squared(self) -> f32 {
        self.x * self.x + self.y * self.y
    }
}

impl Add for Vec2 {
    type Output = Vec2;
    fn add(self, other: Vec2) -> Vec2 {
        Vec2::new(self.x + other.x, self.y + other.y)
    }
}

impl Mul<f32> for Vec2 {
    type Output = Vec2;
    fn mul(self, k: f32) -> Vec2 {
        Vec2::new(self.x * k, self.y * k)
    }
}

new_key_type! {
    /// The key of a particle: copyable, 8 bytes, `None` once it is gone.
    struct ParticleKey;
}

#[derive(Managed)]
struct Particle {
    position: Vec2,
    velocity: Vec2,
    mass: f32,
    age: f32,
    lifetime: f32,
    name: Option<String>,
}

#[managed::forward]
impl Particle {
    /// Kinetic energy.
    fn energy(&self) -> f32 {
        0.5 * self.mass * self.velocity.length_squared()
    }

    /// Applies an impulse.
    fn push(&mut self, impulse: Vec2) {
        self.velocity = self.velocity + impulse * (1.0 / self.mass);
    }

    /// Advances the particle by `dt` seconds.
    fn step(&mut self, dt: f32, gravity: Vec2) {
        self.velocity = self.velocity + gravity * dt;
        self.position = self.position + self.velocity * dt;
        self.age += dt;
    }

    /// Whether it is still young enough and above the ground.
    fn alive(&self) -> bool {
        self.age < self.lifetime && self.position.y > -50.0
    }
}

/// A source of particles, which remembers the ones it emitted.
struct Emitter {
    origin: Vec2,
    spread: f32,
    particles: Vec<ParticleKey>,
}

/// The whole simulation: the pool, and plain keys into it.
struct World {
    particles: ContiguousUniformPool<Particle, ParticleKey>,
    by_name: HashMap<String, ParticleKey>,
    emitters: Vec<Emitter>,
    gravity: Vec2,
    frame: u32,
}

impl World {
    fn new() -> Self {
        World {
            particles: ContiguousUniformPool::with_key(),
            by_name: HashMap::new(),
            emitters: Vec::new(),
            gravity: Vec2::new(0.0, -9.8),
            frame: 0,
        }
    }

    fn add_emitter(&mut self, origin: Vec2, spread: f32) -> usize {
        self.emitters.push(Emitter {
            origin,
            spread,
            particles: Vec::new(),
        });
        self.emitters.len() - 1
    }

    /// Emits `count` particles from emitter `e`; names the first one.
    fn emit(&mut self, e: usize, count: usize, name: Option<&str>) {
        let emitter = &mut self.emitters[e];
        for i in 0..count {
            let angle = (self.frame as usize * 7 + i) as f32 * 0.37;
            let key = self.particles.insert(Particle {
                position: emitter.origin,
                velocity: Vec2::new(angle.cos(), 1.0 + angle.sin().abs()) * emitter.spread,
                mass: 1.0 + (i % 3) as f32,
                age: 0.0,
                lifetime: 1.0 + (i % 5) as f32 * 0.5,
                name: None,
            });
            emitter.particles.push(key);
            if let (0, Some(name)) = (i, name) {
                let mut particle = self.particles.get_mut(key).expect("just inserted");
                particle.name = Some(name.to_owned());
                particle.lifetime = 100.0; // named particles stay around
                particle.velocity.y = 30.0;
                drop(particle);
                self.by_name.insert(name.to_owned(), key);
            }
        }
    }

    /// One frame: move everything, then drop the dead.
    fn step(&mut self, dt: f32) {
        let gravity = self.gravity;
        self.particles.map(|p| p.step(dt, gravity));
        self.particles.retain(|_, p| p.alive());
        // Stale keys find nothing: the side tables simply let go of them.
        let particles = &self.particles;
        for emitter in &mut self.emitters {
            emitter.particles.retain(|&key| particles.contains(key));
        }
        self.by_name.retain(|_, key| particles.contains(*key));
        self.frame += 1;
    }

    /// A blast: pushes the particles near `center` away, and breaks the
    /// ones too close to survive into two lighter fragments, during the
    /// same walk. Returns how many broke.
    fn blast(&self, center: Vec2, radius: f32) -> usize {
        let mut destroyed = 0;
        self.particles.map_with_key(|key, p| {
            let offset = p.position + center * -1.0;
            let distance = offset.length_squared().sqrt().max(1e-3);
            if distance < radius * 0.1 {
                self.particles.remove_deferred(key); // removed when the walk ends
                for side in [-1.0, 1.0] {
                    // Moved in when the walk ends; the walk never sees them.
                    self.particles.insert_deferred(Particle {
                        velocity: Vec2::new(side * 3.0, 2.0),
                        mass: p.mass * 0.5,
                        age: 0.0,
                        lifetime: 0.5,
                        name: None,
                        ..*p
                    });
                }
                destroyed += 1;
            } else if distance < radius {
                p.push(offset * (1.0 / distance));
            }
        });
        destroyed
    }

    fn energy_of(&self, name: &str) -> Option<f32> {
        let key = *self.by_name.get(name)?;
        self.particles.get(key).map(|p| p.energy())
    }
}

/// A pool object holding region items (a label in the region's text).
#[derive(Managed, Rebrand)]
struct Label<'a> {
    text: Item<'a, String>,
    particle: ParticleKey,
}

pub(crate) fn main() {
    let mut world = World::new();
    let left = world.add_emitter(Vec2::new(-10.0, 0.0), 4.0);
    let right = world.add_emitter(Vec2::new(10.0, 0.0), 6.0);
    world.emit(left, 200, Some("comet"));
    world.emit(right, 300, Some("ember"));
    println!("start: {}", world.particles.detailed_stats());

    for frame in 0..60 {
        if frame % 10 == 0 {
            world.emit(left, 50, None);
        }
        if frame == 30 {
            // Centered on one of the right emitter's particles.
            let target = world.emitters[right].particles[5];
            let center = world.particles.get(target).map(|p| p.position).unwrap();
            let before = world.particles.len();
            let destroyed = world.blast(center, 8.0);
            assert_eq!(
                world.particles.len(),
                before + destroyed,
                "two fragments each"
            );
            println!("frame {frame}: blast broke {destroyed} into fragments");
        }
        world.step(1.0 / 30.0);
        if frame % 15 == 14 {
            println!(
                "frame {frame}: {} particles, left emitter tracks {}, comet energy {:?}",
                world.particles.len(),
                world.emitters[left].particles.len(),
                world.energy_of("comet"),
            );
        }
    }
    println!("after the frames: {}", world.particles.detailed_stats());

    // The population falls to the named particles: the object buffer halves
    // as the walk empties it, with no `&mut` and no `shrink_to_fit`.
    world.particles.retain(|_, p| p.name.is_some());
    println!("named only: {}", world.particles.detailed_stats());

    // An owned handle: a proxy removes its particle when dropped, and the
    // particle's own methods work on it directly.
    let probe = world.particles.alloc(Particle {
        position: Vec2::default(),
        velocity: Vec2::default(),
        mass: 2.0,
        age: 0.0,
        lifetime: 10.0,
        name: Some("probe".into()),
    });
    probe.push(Vec2::new(4.0, 0.0));
    println!(
        "probe: energy {}, name {:?}",
        probe.energy(),
        probe.with_name(|n| n.as_deref().map(str::len))
    );
    drop(probe);

    // Pool and region together: labels in a pool hold region text, the
    // region compacts, and the whole pool follows; keys ride along.
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);
    let labels = ContiguousUniformPool::new();
    let mut scratch = Vec::new();
    for (name, &particle) in &world.by_name {
        scratch.push(arena.allocate::<[u64; 4]>(&state).expect("room"));
        let text = arena.alloc(&state, format!("{name}!")).expect("room");
        labels.insert(Label { text, particle });
    }
    make_guard!(compact);
    let token = arena.tokenize_all(&compact, labels);
    drop(scratch);
    let state = arena.compact(&compact, state);
    let labels = token.redeem(&arena);
    let _state = arena.finish(compact, state);
    labels.map(|label| {
        let energy = world.particles.get(label.particle).map(|p| p.energy());
        println!("label {:?} -> energy {energy:?}", label.text.as_str());
    });
    println!("region after compaction: {:?}", arena.detailed_stats());
}
