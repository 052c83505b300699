//! A game scene whose entities carry behaviours of different types, kept
//! on the garbage-collected heap as trait objects.
//!
//! Each entity holds a list of `GcDyn<'gc, dyn Behaviour<'gc>>`: spinners,
//! followers that chase another entity through a weak handle, emitters
//! that spawn projectiles, lifetimes that retire them. The world runs a
//! tick per [`Heap::mutate`] call; a behaviour reads the world and other
//! entities through the shared token, spawns new entities (allocation only
//! needs the shared token too) and changes its own entity's state through a
//! `RefCell` field, the same way a `Rc<RefCell<..>>` scene would. Retired
//! entities become garbage; collections between ticks free them and slide
//! the survivors, trait objects and all.
//!
//! Run with `cargo run --example components`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use managed::prelude::*;

/// What every behaviour can do. It names the brand, so the objects behind
/// it may hold handles (a follower's target).
trait Behaviour<'gc> {
    fn name(&self) -> &'static str;
    fn update(&self, ctx: &mut Ctx<'_, 'gc>);
}

/// An entity's mutable state.
#[derive(Managed, Clone, Copy, Debug, Default)]
struct Body {
    pos: (f32, f32),
    vel: (f32, f32),
    angle: f32,
    alive: bool,
}

#[derive(Managed)]
struct Entity<'gc> {
    name: String,
    body: RefCell<Body>,
    behaviours: Vec<GcDyn<'gc, dyn Behaviour<'gc>>>,
}

/// The heap's root.
#[derive(Managed)]
struct World<'gc> {
    entities: Vec<Gc<'gc, Entity<'gc>>>,
    by_name: HashMap<String, Gc<'gc, Entity<'gc>>>,
    tick: u64,
    spawned: u64,
}

/// What a behaviour sees while it runs.
struct Ctx<'a, 'gc> {
    mc: &'a Mutation<'gc>,
    world: &'a mut World<'gc>,
    me: Gc<'gc, Entity<'gc>>,
}

impl<'gc> Ctx<'_, 'gc> {
    fn body(&self) -> Body {
        *self.mc[self.me].body.borrow()
    }

    fn set_body(&self, body: Body) {
        *self.mc[self.me].body.borrow_mut() = body;
    }
}

#[derive(Managed)]
struct Spin {
    speed: f32,
}

impl<'gc> Behaviour<'gc> for Spin {
    fn name(&self) -> &'static str {
        "spin"
    }
    fn update(&self, ctx: &mut Ctx<'_, 'gc>) {
        let mut body = ctx.body();
        body.angle = (body.angle + self.speed) % 360.0;
        ctx.set_body(body);
    }
}

/// Moves towards another entity, without keeping it alive.
#[derive(Managed)]
struct Follow<'gc> {
    target: GcWeak<'gc, Entity<'gc>>,
    speed: f32,
}

impl<'gc> Behaviour<'gc> for Follow<'gc> {
    fn name(&self) -> &'static str {
        "follow"
    }
    fn update(&self, ctx: &mut Ctx<'_, 'gc>) {
        let Some(target) = self.target.upgrade(ctx.mc) else {
            return; // collected: nothing left to follow
        };
        let goal = ctx.mc[target].body.borrow().pos;
        let mut body = ctx.body();
        let (dx, dy) = (goal.0 - body.pos.0, goal.1 - body.pos.1);
        let dist = (dx * dx + dy * dy).sqrt();
        if dist > self.speed {
            body.pos.0 += dx / dist * self.speed;
            body.pos.1 += dy / dist * self.speed;
        } else {
            body.pos = goal;
        }
        ctx.set_body(body);
    }
}

/// Spawns a projectile every `every` ticks.
#[derive(Managed)]
struct Emitter {
    every: u64,
    fired: Cell<u64>,
}

impl<'gc> Behaviour<'gc> for Emitter {
    fn name(&self) -> &'static str {
        "emitter"
    }
    fn update(&self, ctx: &mut Ctx<'_, 'gc>) {
        if !ctx.world.tick.is_multiple_of(self.every) {
            return;
        }
        self.fired.set(self.fired.get() + 1);
        let from = ctx.body();
        let name = format!("shot{}", ctx.world.spawned);
        let body = Body {
            pos: from.pos,
            vel: (from.angle.to_radians().cos(), from.angle.to_radians().sin()),
            alive: true,
            ..Body::default()
        };
        let drift = behaviour(ctx.mc, Drift);
        let lifetime = behaviour(
            ctx.mc,
            Lifetime {
                left: Cell::new(12),
            },
        );
        spawn(ctx.mc, ctx.world, &name, body, vec![drift, lifetime]);
    }
}

#[derive(Managed)]
struct Drift;

impl<'gc> Behaviour<'gc> for Drift {
    fn name(&self) -> &'static str {
        "drift"
    }
    fn update(&self, ctx: &mut Ctx<'_, 'gc>) {
        let mut body = ctx.body();
        body.pos = (body.pos.0 + body.vel.0, body.pos.1 + body.vel.1);
        ctx.set_body(body);
    }
}

/// Retires its entity after a number of ticks.
#[derive(Managed)]
struct Lifetime {
    left: Cell<u32>,
}

impl<'gc> Behaviour<'gc> for Lifetime {
    fn name(&self) -> &'static str {
        "lifetime"
    }
    fn update(&self, ctx: &mut Ctx<'_, 'gc>) {
        self.left.set(self.left.get().saturating_sub(1));
        if self.left.get() == 0 {
            ctx.mc[ctx.me].body.borrow_mut().alive = false;
        }
    }
}

/// Allocates a behaviour and views it as a trait object.
fn behaviour<'gc, B: Behaviour<'gc> + Managed + 'gc>(
    mc: &Mutation<'gc>,
    b: B,
) -> GcDyn<'gc, dyn Behaviour<'gc>> {
    unsize!(Gc::new(mc, b) => dyn Behaviour<'gc>)
}

fn spawn<'gc>(
    mc: &Mutation<'gc>,
    world: &mut World<'gc>,
    name: &str,
    body: Body,
    behaviours: Vec<GcDyn<'gc, dyn Behaviour<'gc>>>,
) -> Gc<'gc, Entity<'gc>> {
    let entity = Gc::new(
        mc,
        Entity {
            name: name.to_owned(),
            body: RefCell::new(body),
            behaviours,
        },
    );
    world.entities.push(entity);
    world.by_name.insert(name.to_owned(), entity);
    world.spawned += 1;
    entity
}

/// One tick: every behaviour of every entity (spawned ones join the next
/// tick), then the retired entities leave the world.
fn tick<'gc>(mc: &Mutation<'gc>, world: &mut World<'gc>) {
    world.tick += 1;
    let present = world.entities.len();
    for i in 0..present {
        let me = world.entities[i];
        for k in 0..mc[me].behaviours.len() {
            let b = mc[me].behaviours[k];
            mc[b].update(&mut Ctx { mc, world, me });
        }
    }
    world.entities.retain(|&e| mc[e].body.borrow().alive);
    let entities = &world.entities;
    world.by_name.retain(|_, e| entities.contains(e));
}

pub(crate) fn main() {
    let mut heap: Heap<World<'static>> = Heap::new(|_| World {
        entities: Vec::new(),
        by_name: HashMap::new(),
        tick: 0,
        spawned: 0,
    });
    heap.mutate(|mc, world| {
        let alive = |pos| Body {
            pos,
            alive: true,
            ..Body::default()
        };
        let spin = behaviour(mc, Spin { speed: 30.0 });
        let emit = behaviour(
            mc,
            Emitter {
                every: 5,
                fired: Cell::new(0),
            },
        );
        let turret = spawn(mc, world, "turret", alive((0.0, 0.0)), vec![spin, emit]);
        let chase = behaviour(
            mc,
            Follow {
                target: turret.downgrade(),
                speed: 0.5,
            },
        );
        spawn(mc, world, "drone", alive((10.0, 0.0)), vec![chase]);
    });

    // A scene this small would never reach the default budget (256 KiB
    // allocated between collections); collect after every 512 bytes so
    // that the retired shots are freed while the game runs.
    heap.set_pacing(Pacing {
        min_bytes: 512,
        growth: 1.0,
    });
    let (mut collections, mut freed) = (0, 0);
    for _ in 0..100 {
        heap.mutate(|mc, world| tick(mc, world));
        if let Some(stats) = heap.collect_if_due() {
            collections += 1;
            freed += stats.freed_bytes;
        }
    }
    assert!(collections >= 3, "{collections} collections");
    freed += heap.collect().freed_bytes;

    heap.mutate(|mc, world| {
        // 20 shots fired, each lives 12 ticks: the last three are in flight.
        assert_eq!(world.spawned, 2 + 20);
        let shots: Vec<&str> = world
            .entities
            .iter()
            .map(|&e| mc[e].name.as_str())
            .collect();
        assert_eq!(shots, ["turret", "drone", "shot19", "shot20", "shot21"]);
        let drone = world.by_name["drone"];
        assert_eq!(
            mc[drone].body.borrow().pos,
            (0.0, 0.0),
            "the drone reached the turret"
        );
        let turret = world.by_name["turret"];
        let kinds: Vec<&str> = mc[turret]
            .behaviours
            .iter()
            .map(|&b| mc[b].name())
            .collect();
        assert_eq!(kinds, ["spin", "emitter"]);
        // Retune the turret's spin: `&mut mc[h]` reaches the object behind
        // the trait object; here a new behaviour replaces the old one.
        let faster = behaviour(mc, Spin { speed: 45.0 });
        mc[turret].behaviours[0] = faster;
        println!(
            "tick {}: {} entities live, {} spawned in all, {} bytes freed by {} collections",
            world.tick,
            world.entities.len(),
            world.spawned,
            freed,
            collections
        );
    });
    let stats = heap.collect();
    // Turret, drone and three shots; their behaviours (2 + 1 + 2 each): the
    // turret's old spin is gone.
    assert_eq!(stats.live_objects, 5 + 3 + 3 * 2);
    assert_eq!(stats.freed_bytes, 8, "one `Spin`");
}
