//! The particle scenario: a `World` owning a pool together with keys into
//! it (a name index, emitters holding their particles' keys), a `map`
//! every frame, removal during walks (by `retain`, by deleting keys inside
//! `map_with_key`, by dropping proxies inside `map`), lookups by name, a
//! proxy with forwarded methods, and the pool's statistics. Each frame is
//! checked against the same simulation run on a plain `Vec`.

use std::collections::HashMap;

use managed::prelude::*;

/// An ordinary 2D vector: no trait impl needed as a field.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Vec2 {
    x: f32,
    y: f32,
}

new_key_type! {
    struct ParticleKey;
}

#[derive(Managed, Clone, Debug, PartialEq)]
struct Particle {
    id: u32,
    position: Vec2,
    velocity: Vec2,
    age: u32,
    lifetime: u32,
    name: Option<String>,
}

#[managed::forward]
impl Particle {
    /// Twice the kinetic energy of a unit mass.
    fn energy(&self) -> f32 {
        self.velocity.x * self.velocity.x + self.velocity.y * self.velocity.y
    }

    /// Applies an impulse.
    fn push(&mut self, dx: f32, dy: f32) {
        self.velocity.x += dx;
        self.velocity.y += dy;
    }

    fn step(&mut self) {
        self.velocity.y -= 1.0;
        self.position.x += self.velocity.x;
        self.position.y += self.velocity.y;
        self.age += 1;
    }

    fn alive(&self) -> bool {
        self.age < self.lifetime
    }
}

struct Emitter {
    particles: Vec<ParticleKey>,
}

struct World {
    particles: ContiguousUniformPool<Particle, ParticleKey>,
    by_name: HashMap<String, ParticleKey>,
    emitters: Vec<Emitter>,
    next_id: u32,
}

/// The same simulation on a `Vec`: what the world must agree with.
#[derive(Default)]
struct Model {
    particles: Vec<Particle>,
    emitters: Vec<Vec<u32>>,
}

fn particle(id: u32, emitter: usize) -> Particle {
    Particle {
        id,
        position: Vec2 {
            x: emitter as f32 * 100.0,
            y: 0.0,
        },
        velocity: Vec2 {
            x: (id % 7) as f32 - 3.0,
            y: 5.0 + (id % 3) as f32,
        },
        age: 0,
        lifetime: 3 + id % 11,
        name: id.is_multiple_of(50).then(|| format!("p{id}")),
    }
}

impl World {
    fn emit(&mut self, model: &mut Model, emitter: usize, count: u32) {
        for _ in 0..count {
            let p = particle(self.next_id, emitter);
            self.next_id += 1;
            model.particles.push(p.clone());
            model.emitters[emitter].push(p.id);
            let name = p.name.clone();
            let key = self.particles.insert(p);
            self.emitters[emitter].particles.push(key);
            if let Some(name) = name {
                self.by_name.insert(name, key);
            }
        }
    }

    fn step(&mut self, model: &mut Model) {
        self.particles.map(|p| p.step());
        self.particles.retain(|_, p| p.alive());
        let particles = &self.particles;
        for emitter in &mut self.emitters {
            emitter.particles.retain(|&key| particles.contains(key));
        }
        self.by_name.retain(|_, key| particles.contains(*key));

        model.particles.iter_mut().for_each(Particle::step);
        model.particles.retain(Particle::alive);
        let alive: Vec<u32> = model.particles.iter().map(|p| p.id).collect();
        for ids in &mut model.emitters {
            ids.retain(|id| alive.contains(id));
        }
    }

    /// Removes, during one walk, the particles above `ceiling`.
    fn clip(&self, model: &mut Model, ceiling: f32) -> usize {
        let mut removed = 0;
        self.particles.map_with_key(|key, p| {
            if p.position.y > ceiling {
                assert!(self.particles.remove_deferred(key));
                assert!(!self.particles.contains(key));
                removed += 1;
            }
        });
        model.particles.retain(|p| p.position.y <= ceiling);
        removed
    }

    fn check(&self, model: &Model) {
        assert_eq!(self.particles.len(), model.particles.len());
        let mut stored: Vec<Particle> = self.particles.borrow().values().cloned().collect();
        stored.sort_by_key(|p| p.id);
        let mut expected = model.particles.clone();
        expected.sort_by_key(|p| p.id);
        assert_eq!(stored, expected);
        for (emitter, ids) in self.emitters.iter().zip(&model.emitters) {
            let found: Vec<u32> = emitter
                .particles
                .iter()
                .map(|&key| self.particles.get(key).expect("kept keys are live").id)
                .collect();
            assert_eq!(&found, ids);
        }
        for (name, &key) in &self.by_name {
            let p = self.particles.get(key).expect("named particles are live");
            assert_eq!(p.name.as_deref(), Some(name.as_str()));
        }
        let named = model.particles.iter().filter(|p| p.name.is_some()).count();
        assert_eq!(self.by_name.len(), named);
    }
}

#[test]
fn the_particle_scenario() {
    let frames: usize = if cfg!(miri) { 12 } else { 60 };
    let burst: u32 = if cfg!(miri) { 20 } else { 300 };
    let mut world = World {
        particles: ContiguousUniformPool::with_key(),
        by_name: HashMap::new(),
        emitters: (0..3)
            .map(|_| Emitter {
                particles: Vec::new(),
            })
            .collect(),
        next_id: 0,
    };
    let mut model = Model {
        emitters: vec![Vec::new(); 3],
        ..Model::default()
    };
    let mut peak = 0;
    for frame in 0..frames {
        if frame % 4 == 0 {
            world.emit(&mut model, frame % 3, burst);
        }
        world.step(&mut model);
        if frame % 5 == 2 {
            world.clip(&mut model, 30.0);
            let particles = &world.particles;
            for emitter in &mut world.emitters {
                emitter.particles.retain(|&key| particles.contains(key));
            }
            world.by_name.retain(|_, key| particles.contains(*key));
            let alive: Vec<u32> = model.particles.iter().map(|p| p.id).collect();
            for ids in &mut model.emitters {
                ids.retain(|id| alive.contains(id));
            }
        }
        world.check(&model);
        peak = peak.max(world.particles.capacity());
    }
    assert_eq!(world.next_id, frames.div_ceil(4) as u32 * burst);

    // A name lookup reads through a guard.
    if let Some((name, &key)) = world.by_name.iter().next() {
        let energy = world.particles.get(key).map(|p| p.energy());
        let expected = model
            .particles
            .iter()
            .find(|p| p.name.as_deref() == Some(name))
            .map(Particle::energy);
        assert_eq!(energy, expected);
    }

    // A proxy owns its particle; forwarded methods and accessors work on
    // it; dropping proxies inside a walk removes their particles after it.
    let proxies: Vec<_> = (0..5)
        .map(|i| world.particles.alloc(particle(1_000_000 + i, 0)))
        .collect();
    proxies[0].push(1.0, 0.0);
    assert_eq!(proxies[0].energy(), 37.0); // (-2 + 1)^2 + 6^2
    assert_eq!(proxies[1].with_name(|n| n.clone()), None);
    let len = world.particles.len();
    let mut proxies = Some(proxies);
    let mut seen = 0;
    world.particles.map(|_| {
        seen += 1;
        proxies = None;
    });
    assert_eq!((seen, world.particles.len()), (len, len - 5));

    // Memory goes back as the population falls, without `&mut`.
    world.particles.retain(|_, p| p.name.is_some());
    let stats = world.particles.detailed_stats();
    assert_eq!(stats.len, world.by_name.len());
    // The buffer halved down to the first buffer's size (292 particles of
    // a 64-bit target) or to four times what is left.
    if cfg!(target_pointer_width = "64") {
        assert!(stats.capacity <= peak.min(2 * 292), "{stats}");
        if !cfg!(miri) {
            assert!(peak >= 4 * 292, "the population peaked at {peak}");
        }
    }
    assert!(stats.density() <= 1.0);
}
