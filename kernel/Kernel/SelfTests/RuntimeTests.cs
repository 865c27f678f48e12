using System;
using HekiGuest.Platform.Testing;
using HekiGuest.Kernel.Testing;
using Internal.Runtime;

namespace HekiGuest.Kernel.SelfTests;

// The corelib's features, each exercised for real: objects, strings, arrays, generics,
// delegates, interface dispatch through the resolver, static constructors, reference-type
// statics, stackalloc, 64-bit division and doubles, casts and the allocator.
public sealed unsafe class RuntimeTests : ITestGroup
{
    public string Name => "runtime";
    public bool Hidden => false;

    public void Run(TestContext t)
    {
        Objects(t);
        Strings(t);
        Arrays(t);
        Generics(t);
        Delegates(t);
        Interfaces(t);
        Virtuals(t);
        StaticConstructors(t);
        ReferenceStatics(t);
        StackAlloc(t);
        Division(t);
        Doubles(t);
        Casts(t);
        Allocator(t);
    }

    private sealed class Point { public int X, Y; public Point(int x, int y) { X = x; Y = y; } }
    private struct Pair { public long A; public int B; }

    private static void Objects(TestContext t)
    {
        var p = new Point(3, -4);
        Pair s; s.A = 1L << 40; s.B = 7;
        Pair copy = s; copy.B = 8;
        t.Check(p.X == 3 && p.Y == -4 && s.B == 7 && copy.B == 8 && copy.A == 1L << 40, "objects and struct copies", "field values differ");
        object boxed = 42;
        t.Check(boxed is int i && i == 42, "boxing and unboxing", "boxed int did not round-trip");
    }

    private static void Strings(TestContext t)
    {
        string a = "heki", b = "guest";
        string c = a + b;
        t.EqualString(c, "hekiguest", "string concat");
        t.Equal(c.Length, 9, "string length");
        t.Check(c[4] == 'g' && c.StartsWith("heki") && c.Substring(4, 5) == "guest", "string index, prefix, substring", "wrong characters");
        t.Check(c != "hekiguesT" && c.GetHashCode() == "hekiguest".GetHashCode(), "string equality and hash", "equality or hash broken");
    }

    private static void Arrays(TestContext t)
    {
        int[] squares = new int[100];
        for (int i = 0; i < squares.Length; i++) squares[i] = i * i;
        long sum = 0;
        for (int i = 0; i < squares.Length; i++) sum += squares[i];
        t.Equal(sum, 328350, "int array fill and sum");
        object[] objs = new object[] { "x", new Point(1, 2), null };
        t.Check(objs.Length == 3 && objs[0] is string && objs[1] is Point && objs[2] is null, "object array", "element types wrong");
        byte[] init = new byte[] { 1, 2, 3, 250 };
        t.Check(init[3] == 250 && init.Length == 4, "array initializer data", "static array data wrong");
        string[] strs = new string[2];
        object[] covariant = strs;
        covariant[1] = "ok";
        t.Check(strs[1] == "ok", "covariant array store", "store through object[] view lost");
    }

    private sealed class Box<T> { public T Value; public Box(T v) { Value = v; } public T Get() => Value; }

    private static T Pick<T>(bool first, T a, T b) => first ? a : b;

    private static void Generics(TestContext t)
    {
        var bi = new Box<int>(5);
        var bs = new Box<string>("five");
        var bl = new Box<long>(long.MaxValue);
        t.Check(bi.Get() == 5 && bs.Get() == "five" && bl.Get() == long.MaxValue, "generic classes over value and reference types", "instantiation wrong");
        t.Check(Pick(false, 1, 2) == 2 && Pick(true, "a", "b") == "a", "generic methods", "generic method wrong");
    }

    private sealed class Counter { public int N; public void Add(int k) => N += k; }
    private static int s_staticHits;
    private static void StaticTarget(int k) => s_staticHits += k;

    private static void Delegates(TestContext t)
    {
        var counter = new Counter();
        Action<int> inst = counter.Add;
        inst(3); inst(4);
        Action<int> stat = StaticTarget;
        s_staticHits = 0; stat(10);
        int captured = 100;
        Func<int, int> lambda = x => x + captured;
        captured = 200;
        Func<int, int, int> mul = (x, y) => x * y;
        t.Check(counter.N == 7, "closed instance delegate", "counter not updated");
        t.Check(s_staticHits == 10, "static delegate", "static target not reached");
        t.Equal(lambda(1), 201, "lambda with captured variable");
        t.Equal(mul(6, 7), 42, "two-argument lambda");
    }

    // Four implementations: the compiler cannot turn the call into type tests, so it must go
    // through the dispatch stub and the corelib's dispatch-map resolver.
    private interface IShape { long Area(); int Sides { get; } }
    private sealed class Square : IShape { public long S; public long Area() => S * S; public int Sides => 4; }
    private sealed class Rect : IShape { public long W, H; public long Area() => W * H; public int Sides => 4; }
    private sealed class Tri : IShape { public long B, H; public long Area() => B * H / 2; public int Sides => 3; }
    private class Polygon : IShape { public virtual long Area() => 1000; public int Sides => 10; }
    private sealed class Dodecagon : Polygon { public override long Area() => 1200; }
    private static IShape[] s_shapes;

    private static IShape MakeShape(int i) => i switch
    {
        0 => new Square { S = 3 },
        1 => new Rect { W = 2, H = 5 },
        2 => new Tri { B = 4, H = 3 },
        3 => new Polygon(),
        _ => new Dodecagon(),
    };

    private static void Interfaces(TestContext t)
    {
        s_shapes = new IShape[5];
        for (int i = 0; i < 5; i++) s_shapes[i] = MakeShape(i);
        int before = InterfaceDispatch.Resolutions;
        long area = 0; int sides = 0;
        for (int i = 0; i < s_shapes.Length; i++) { area += s_shapes[i].Area(); sides += s_shapes[i].Sides; }
        t.Equal(area, 9 + 10 + 6 + 1000 + 1200, "interface dispatch over 5 types");
        t.Equal(sides, 4 + 4 + 3 + 10 + 10, "interface property dispatch");
        t.Check(InterfaceDispatch.Resolutions > before, "interface calls resolved by the runtime dispatcher", "no call went through the resolver");
    }

    private abstract class Animal { public abstract int Legs(); public virtual string Kind() => "animal"; }
    private sealed class Bird : Animal { public override int Legs() => 2; public override string Kind() => "bird"; }
    private sealed class Dog : Animal { public override int Legs() => 4; }

    private static void Virtuals(TestContext t)
    {
        Animal[] zoo = new Animal[] { new Bird(), new Dog() };
        t.Check(zoo[0].Legs() == 2 && zoo[1].Legs() == 4 && zoo[0].Kind() == "bird" && zoo[1].Kind() == "animal", "virtual and abstract calls", "wrong override");
    }

    private static class Lazy
    {
        public static int Runs;
        public static readonly long Stamp;
        static Lazy() { Runs++; Stamp = (long)HekiGuest.Platform.Arch.Native.ReadTsc() | 1; }
    }

    private static void StaticConstructors(TestContext t)
    {
        long a = Lazy.Stamp, b = Lazy.Stamp;
        t.Check(Lazy.Runs == 1 && a == b && a != 0, "static constructor runs once", "ran zero or several times");
    }

    private sealed class Registry { public string Name; public int[] Slots = new int[4]; }
    private static Registry s_registry = new Registry { Name = "reg" };
    private static string[] s_names = new string[] { "alpha", "beta" };

    private static void ReferenceStatics(TestContext t)
    {
        s_registry.Slots[2] = 9;
        t.Check(s_registry != null && s_registry.Name == "reg" && s_registry.Slots[2] == 9 && s_names[1] == "beta", "reference-type statics", "static objects missing");
    }

    private static void StackAlloc(TestContext t)
    {
        Span<int> span = stackalloc int[64];
        for (int i = 0; i < span.Length; i++) span[i] = i * 3;
        int sum = 0;
        for (int i = 0; i < span.Length; i++) sum += span[i];
        byte* raw = stackalloc byte[16];
        for (int i = 0; i < 16; i++) raw[i] = (byte)i;
        t.Check(sum == 3 * 63 * 64 / 2 && raw[15] == 15, "stackalloc into span and pointer", "stack buffer contents wrong");
    }

    private static long s_divisor = -7;
    private static ulong s_udivisor = 10;

    private static void Division(TestContext t)
    {
        long n = -1_000_000_000_007L;
        t.Equal(n / s_divisor, 142857142858L, "64-bit signed division");
        t.Equal(n % s_divisor, -1, "64-bit signed remainder");
        ulong u = ulong.MaxValue;
        t.Check(u / s_udivisor == 1844674407370955161UL && u % s_udivisor == 5, "64-bit unsigned division", "unsigned quotient or remainder wrong");
        t.Equal(long.MinValue / (s_divisor / 7 + 2), long.MinValue, "division by one at the limit");
    }

    private static double s_x = 2.0;

    private static void Doubles(TestContext t)
    {
        double r = Math.Sqrt(s_x);
        double err = Math.Abs(r * r - 2.0);
        t.Check(err < 1e-12, "double arithmetic (sqrt 2)", "Newton iteration drifted");
        double big = 1e300 * 1e10;
        t.Check(big > 1e308 && (long)(s_x * 1.5e9) == 3000000000L && (int)-2.7 == -2, "double overflow and conversions", "conversion wrong");
        float f = (float)s_x / 3f;
        t.Check(f > 0.6666f && f < 0.6667f, "float arithmetic", "float division wrong");
    }

    private static object s_obj1 = "text", s_obj2 = new Bird();

    private static void Casts(TestContext t)
    {
        t.Check(s_obj1 is string && !(s_obj1 is Animal) && s_obj2 is Animal && s_obj2 as Dog == null, "is and as with classes", "class test wrong");
        object shape = MakeShape(1);
        t.Check(shape is IShape && !(s_obj1 is IShape), "is with interfaces", "interface test wrong");
        Animal a = (Animal)s_obj2;
        t.Check(a.Legs() == 2, "checked downcast", "cast result wrong");
    }

    // Not inlined: the array escapes through the return value, so it must come from the heap.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long[] MakeArray(int n) => new long[n];

    private static void Allocator(TestContext t)
    {
        ulong before = Heap.BytesAllocated;
        var arr = MakeArray(1000);
        ulong used = Heap.BytesAllocated - before;
        t.Equal((long)used, (8 + 8 + 8 + 8000 + 15) / 16 * 16, "allocation accounting (long[1000])");
        bool zeroed = true;
        for (int i = 0; i < arr.Length; i++) if (arr[i] != 0) zeroed = false;
        t.Check(zeroed, "allocations are zeroed", "nonzero memory returned");
        t.Check(Heap.Capacity > 16UL << 20, "heap extended from the memory map", "heap still only the early arena");
    }
}
