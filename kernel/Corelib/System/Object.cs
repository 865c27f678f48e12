using Internal.Runtime;

namespace System;

public unsafe class Object
{
    // The first word of every object: a contract with the compiler.
    internal MethodTable* m_pMethodTable;

    public Object() { }

    public virtual bool Equals(object o) => (object)this == o;
    public virtual int GetHashCode()
    {
        object self = this;
        ulong address = *(ulong*)Runtime.CompilerServices.Unsafe.AsPointer(ref self);
        return (int)(address ^ (address >> 32));
    }
    public virtual string ToString() => "object";

    internal MethodTable* GetMethodTable() => m_pMethodTable;
}
